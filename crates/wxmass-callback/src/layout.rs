//! The fast path for the push that matters: a MASSSENDJOBFINISH laid out the
//! way WeChat writes it (wechat-api.md §15), read in one pass straight into a
//! [`MassSendJobFinish`], without building a document first.
//!
//! The general reader ([`crate::xml`], then the typed event) scans every name
//! byte by byte, records each element, and then walks the elements again to
//! find the fields. Here each expected tag is checked with one comparison of
//! known bytes, and each value goes straight into its field: the decrypted
//! message of the benchmark is read in about a third of the time.
//!
//! It reads only what it can read with certainty: the elements of §15 in
//! §15's order, each at most once; CDATA where WeChat writes CDATA and plain
//! digits where it writes numbers; spaces, tabs and newlines between
//! elements. Anything else (a declaration, a comment, an attribute, a
//! reference, a carriage return, an unknown element, another order) makes it
//! give up, and [`Push::parse`](crate::Push::parse) hands the push to the
//! general reader instead. So the fast path decides how quickly a push is
//! read, never what is read; a property test below and the `event` fuzz
//! target hold the two paths to the same answer.

use crate::event::{
    ArticleUrl, ArticleUrlResult, CheckState, CopyrightCheckItem, CopyrightCheckResult, EventError,
    MassSendJobFinish, MassStatus, Push,
};
use crate::xml;

impl Push {
    /// Parses a decrypted push body.
    ///
    /// ```
    /// use wxmass_callback::event::{MassStatus, Push};
    /// let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[mphelper]]></FromUserName>\
    ///     <CreateTime>1650896441</CreateTime><MsgType><![CDATA[event]]></MsgType>\
    ///     <Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1000000003</MsgID>\
    ///     <Status><![CDATA[err(30003)]]></Status><TotalCount>4</TotalCount></xml>";
    /// let Push::MassSendJobFinish(job) = Push::parse(xml)? else { panic!() };
    /// assert_eq!(job.msg_id, 1000000003);
    /// assert_eq!(job.status, MassStatus::Error(30003));
    /// assert_eq!(job.total_count, 4);
    /// # Ok::<(), wxmass_callback::event::EventError>(())
    /// ```
    pub fn parse(xml: &str) -> Result<Push, EventError> {
        // WeChat's own layout of the report takes the fast path; anything
        // else, the general reader.
        if let Some(job) = mass_send_job_finish(xml) {
            return Ok(Push::MassSendJobFinish(job));
        }
        Push::from_document(&xml::Document::parse(xml)?)
    }
}

/// Reads `xml` if it is a MASSSENDJOBFINISH in WeChat's layout; `None` when
/// the general reader must decide.
pub(crate) fn mass_send_job_finish(xml: &str) -> Option<MassSendJobFinish> {
    Layout { xml, pos: 0 }.job().ok()
}

/// Anything outside the layout: the general reader takes over.
struct GiveUp;

type Read<T> = Result<T, GiveUp>;

/// Result lists longer than this go to the general reader, which counts
/// elements against its limit (a send has at most eight articles).
const MAX_ITEMS: usize = 64;

struct Layout<'a> {
    xml: &'a str,
    pos: usize,
}

impl<'a> Layout<'a> {
    fn job(&mut self) -> Read<MassSendJobFinish> {
        self.space();
        self.expect("<xml>")?;
        let to_user_name = self.optional("ToUserName", Self::cdata)?;
        let from_user_name = self.optional("FromUserName", Self::cdata)?;
        let create_time = self.optional("CreateTime", Self::number)?;
        // The general reader decides what any other push is.
        if self.optional("MsgType", Self::cdata)? != Some("event")
            || self.optional("Event", Self::cdata)? != Some("MASSSENDJOBFINISH")
        {
            return Err(GiveUp);
        }
        let msg_id = self.optional("MsgID", Self::number)?.ok_or(GiveUp)?;
        let status = self.optional("Status", Self::cdata)?;
        let total_count = self.optional("TotalCount", Self::number::<u32>)?;
        let filter_count = self.optional("FilterCount", Self::number)?;
        let sent_count = self.optional("SentCount", Self::number)?;
        let error_count = self.optional("ErrorCount", Self::number)?;
        let copyright_check_result = self.optional("CopyrightCheckResult", Self::copyright)?;
        let article_url_result = self.optional("ArticleUrlResult", Self::article_urls)?;
        self.space();
        self.expect("</xml>")?;
        self.space();
        if self.pos != self.xml.len() {
            return Err(GiveUp);
        }
        let job = MassSendJobFinish {
            to_user_name: to_user_name.unwrap_or_default().to_owned(),
            from_user_name: from_user_name.unwrap_or_default().to_owned(),
            create_time: create_time.unwrap_or(0),
            msg_id,
            // As the general reader does with an absent Status.
            status: status.map_or(MassStatus::Other(String::new()), MassStatus::parse),
            total_count: total_count.unwrap_or(0),
            filter_count: filter_count.unwrap_or(0),
            sent_count: sent_count.unwrap_or(0),
            error_count: error_count.unwrap_or(0),
            copyright_check_result,
            article_url_result,
            extra: Vec::new(),
        };
        // A value the general reader refuses is refused there, with its reason.
        job.check_text().map_err(|_| GiveUp)?;
        Ok(job)
    }

    fn copyright(&mut self) -> Read<CopyrightCheckResult> {
        let count = self.optional("Count", Self::number)?;
        let items = self.optional("ResultList", |r| r.items(Self::copyright_item))?;
        let check_state = self.optional("CheckState", Self::number)?;
        self.space();
        Ok(CopyrightCheckResult {
            count: count.unwrap_or(0),
            items: items.unwrap_or_default(),
            check_state: CheckState::from_code(check_state.unwrap_or(0)),
        })
    }

    fn copyright_item(&mut self) -> Read<CopyrightCheckItem> {
        let flag = |r: &mut Self| r.number::<i64>().map(|n| n != 0);
        let item = CopyrightCheckItem {
            article_idx: self.optional("ArticleIdx", Self::number)?.unwrap_or(0),
            user_declare_state: self
                .optional("UserDeclareState", Self::number)?
                .unwrap_or(0),
            audit_state: self.optional("AuditState", Self::number)?.unwrap_or(0),
            original_article_url: self
                .optional("OriginalArticleUrl", Self::cdata)?
                .unwrap_or_default()
                .to_owned(),
            original_article_type: self
                .optional("OriginalArticleType", Self::number)?
                .unwrap_or(0),
            can_reprint: self.optional("CanReprint", flag)?.unwrap_or(false),
            need_replace_content: self.optional("NeedReplaceContent", flag)?.unwrap_or(false),
            need_show_reprint_source: self
                .optional("NeedShowReprintSource", flag)?
                .unwrap_or(false),
        };
        self.space();
        Ok(item)
    }

    fn article_urls(&mut self) -> Read<ArticleUrlResult> {
        let count = self.optional("Count", Self::number)?;
        let items = self.optional("ResultList", |r| {
            r.items(|r| {
                let article_idx = r.optional("ArticleIdx", Self::number)?.unwrap_or(0);
                let article_url = r.optional("ArticleUrl", Self::cdata)?.unwrap_or_default();
                r.space();
                Ok(ArticleUrl {
                    article_idx,
                    article_url: article_url.to_owned(),
                })
            })
        })?;
        self.space();
        Ok(ArticleUrlResult {
            count: count.unwrap_or(0),
            items: items.unwrap_or_default(),
        })
    }

    /// The `<item>` children of a result list.
    fn items<T>(&mut self, item: impl Fn(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let mut items = Vec::new();
        while let Some(read) = self.optional("item", &item)? {
            if items.len() == MAX_ITEMS {
                return Err(GiveUp);
            }
            items.push(read);
        }
        self.space();
        Ok(items)
    }

    /// `<name>value</name>` if the next element is `name`, after whitespace.
    ///
    /// Inlined, so that each name is a constant and its comparisons are a
    /// few loads instead of calls to `memcmp`.
    #[inline(always)]
    fn optional<T>(
        &mut self,
        name: &str,
        value: impl FnOnce(&mut Self) -> Read<T>,
    ) -> Read<Option<T>> {
        self.space();
        if !self.tag(b"<", name) {
            return Ok(None);
        }
        let value = value(self)?;
        if self.tag(b"</", name) {
            Ok(Some(value))
        } else {
            Err(GiveUp)
        }
    }

    /// The bytes not read yet.
    fn rest(&self) -> &'a [u8] {
        &self.xml.as_bytes()[self.pos..]
    }

    /// Steps over `{start}{name}>` if it comes next.
    #[inline(always)]
    fn tag(&mut self, start: &[u8], name: &str) -> bool {
        let rest = self.rest();
        let end = start.len() + name.len();
        let found = rest.len() > end
            && rest.starts_with(start)
            && rest[start.len()..].starts_with(name.as_bytes())
            && rest[end] == b'>';
        if found {
            self.pos += end + 1;
        }
        found
    }

    fn expect(&mut self, literal: &str) -> Read<()> {
        if self.rest().starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Whitespace between elements. Only what WeChat writes: a carriage
    /// return (normalised by the general reader) or a form feed gives up.
    fn space(&mut self) {
        let bytes = self.xml.as_bytes();
        while matches!(bytes.get(self.pos), Some(b' ' | b'\t' | b'\n')) {
            self.pos += 1;
        }
    }

    /// One `<![CDATA[...]]>` section without a carriage return.
    fn cdata(&mut self) -> Read<&'a str> {
        self.expect("<![CDATA[")?;
        let (len, carriage_return) = xml::find_cdata_end(self.rest()).ok_or(GiveUp)?;
        if carriage_return {
            return Err(GiveUp);
        }
        let text = self.xml.get(self.pos..self.pos + len).ok_or(GiveUp)?;
        self.pos += len + 3;
        Ok(text)
    }

    /// One to eighteen ASCII digits, as a `T` that holds them.
    fn number<T: TryFrom<u64>>(&mut self) -> Read<T> {
        let mut value = 0u64;
        let mut digits = 0;
        // Nineteen digits cannot overflow a u64; eighteen always fit an i64.
        for &b in self.rest().iter().take(19) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value * 10 + u64::from(b - b'0');
            digits += 1;
        }
        if digits == 0 || digits > 18 {
            return Err(GiveUp);
        }
        self.pos += digits;
        T::try_from(value).map_err(|_| GiveUp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Push;
    use crate::xml::Document;
    use proptest::prelude::*;

    /// The general reader alone.
    fn general(xml: &str) -> Option<MassSendJobFinish> {
        let doc = Document::parse(xml).ok()?;
        match Push::from_document(&doc).ok()? {
            Push::MassSendJobFinish(job) => Some(job),
            _ => None,
        }
    }

    const OFFICIAL: &str = crate::event::tests::OFFICIAL;

    #[test]
    fn reads_wechat_layouts_like_the_general_reader() {
        let compact = OFFICIAL.replace('\n', "");
        let spaced = OFFICIAL.replace('\n', "\n\t  ");
        let success = crate::event::tests::SUCCESS;
        for xml in [OFFICIAL, &compact, &spaced, success] {
            let fast = mass_send_job_finish(xml).expect("in the layout");
            assert_eq!(Some(fast), general(xml), "{xml}");
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_know() {
        // (what, replaced with) in the official example.
        let cases = [
            ("<xml>", "<?xml version=\"1.0\"?><xml>"),
            ("<xml>", "<xml a=\"1\">"),
            ("\n<MsgID>", "\r\n<MsgID>"),
            ("Url_1", "Url\r_1"),
            ("<![CDATA[Url_1]]>", "a &amp; b"),
            ("<![CDATA[event]]>", "event"),
            ("MASSSENDJOBFINISH", "masssendjobfinish"),
            ("<CreateTime>1481013459", "<CreateTime> 1481013459"),
            ("<TotalCount>0", "<TotalCount>-1"),
            ("<TotalCount>0", "<TotalCount>1234567890123456789"),
            ("<ArticleIdx>1", "<ArticleIdx>4294967296"),
            ("<MsgID>1000001625</MsgID>\n", ""),
            (
                "<ErrorCount>0</ErrorCount>",
                "<ErrorCount>0</ErrorCount><Extra/>",
            ),
            ("<Status>", "<!-- c --><Status>"),
            ("</xml>", "</xml><!-- after -->"),
            // Another order.
            (
                "<TotalCount>0</TotalCount>\n<FilterCount>0</FilterCount>",
                "<FilterCount>0</FilterCount>\n<TotalCount>0</TotalCount>",
            ),
            ("<ResultList>", "<ResultList/><ResultList>"),
        ];
        for (what, with) in cases {
            let xml = OFFICIAL.replace(what, with);
            assert_ne!(xml, OFFICIAL, "{what:?} is not in the example");
            assert_eq!(mass_send_job_finish(&xml), None, "{xml}");
        }
        // Many items are the general reader's to count.
        let item = "<item><ArticleIdx>1</ArticleIdx></item>";
        let many = OFFICIAL.replace(
            "<ResultList>",
            &format!("<ResultList>{}", item.repeat(MAX_ITEMS)),
        );
        assert_eq!(mass_send_job_finish(&many), None);
    }

    /// Pieces of §15's layout and of what breaks it.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("\n".to_owned()),
            Just(" ".to_owned()),
            Just("\r".to_owned()),
            Just("]]>".to_owned()),
            Just("<![CDATA[".to_owned()),
            Just("<Extra>1</Extra>".to_owned()),
            Just("<item>".to_owned()),
            Just("&amp;".to_owned()),
            "[0-9]{1,20}",
            "[ -~]{0,6}",
        ]
    }

    proptest! {
        /// Splice random pieces into the official example, or cut it: the
        /// fast path either gives up or agrees with the general reader.
        #[test]
        fn never_disagrees_with_the_general_reader(
            at in 0usize..OFFICIAL.len(),
            cut in 0usize..12,
            piece in piece(),
        ) {
            let at = (0..=at).rev().find(|&i| OFFICIAL.is_char_boundary(i)).unwrap_or(0);
            let end = (at + cut).min(OFFICIAL.len());
            let xml = format!("{}{}{}", &OFFICIAL[..at], piece, &OFFICIAL[end..]);
            if let Some(fast) = mass_send_job_finish(&xml) {
                prop_assert_eq!(Some(fast), general(&xml), "{}", xml);
            }
        }

        /// Values of every kind in the layout's places.
        #[test]
        fn agrees_on_any_values(
            name in "[^\r\\]]{0,12}",
            number in 0u64..=999_999_999_999_999_999,
            status in prop_oneof![
                Just("send success".to_owned()),
                Just("err(20431)".to_owned()),
                "[ -~]{0,12}",
            ],
            space in "[ \t\n]{0,3}",
        ) {
            let xml = OFFICIAL
                .replace("gh_4d00ed8d6399", &name)
                .replace("1481013459", &number.to_string())
                .replace("err(30003)", &status)
                .replace('\n', &space);
            let fast = mass_send_job_finish(&xml);
            let general = general(&xml);
            if fast.is_some() {
                prop_assert_eq!(fast, general);
            } else {
                // Only names that break the CDATA may make it give up here.
                prop_assert!(name.contains("]]") || status.contains("]]") || general.is_none());
            }
        }
    }
}
