// The benchmark workload, shared by the criterion bench and the
// `bench_fixture` example that hands the same request to wechatpy.
//
// A safe-mode MASSSENDJOBFINISH of about 1 KB with a two-item copyright check,
// and a TEMPLATESENDJOBFINISH (one report per template message, so the
// receiver's most frequent push in a fan-out), each sealed with a fixed
// random so that every run measures the same bytes.

use wxmass_callback::crypto::{AesKey, MessageCrypto, Sealed};
use wxmass_callback::{CallbackConfig, PushQuery, signature};

pub const TOKEN: &str = "wxmassBench";
pub const APPID: &str = "wx4f2a7c91d3e8b605";
pub const ENCODING_AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
pub const TIMESTAMP: &str = "1764000000";
pub const NONCE: &str = "1320562132";

pub struct Fixture {
    pub plaintext: String,
    pub signature: String,
    pub msg_signature: String,
    pub body: String,
}

pub fn plaintext() -> String {
    // The official example of wechat-api.md §15 (two copyright items), with
    // the counts of a real 10,000-follower send.
    let item = |idx: u32| {
        format!(
            "<item>\n<ArticleIdx>{idx}</ArticleIdx>\n<UserDeclareState>0</UserDeclareState>\n<AuditState>2</AuditState>\n<OriginalArticleUrl><![CDATA[Url_{idx}]]></OriginalArticleUrl>\n<OriginalArticleType>1</OriginalArticleType>\n<CanReprint>1</CanReprint>\n<NeedReplaceContent>1</NeedReplaceContent>\n<NeedShowReprintSource>1</NeedShowReprintSource>\n</item>\n"
        )
    };
    format!(
        "<xml>\n<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>\n<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>\n<CreateTime>1764000000</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[MASSSENDJOBFINISH]]></Event>\n<MsgID>3147494552</MsgID>\n<Status><![CDATA[send success]]></Status>\n<TotalCount>10000</TotalCount>\n<FilterCount>9987</FilterCount>\n<SentCount>9980</SentCount>\n<ErrorCount>7</ErrorCount>\n<CopyrightCheckResult>\n<Count>2</Count>\n<ResultList>\n{}{}</ResultList>\n<CheckState>2</CheckState>\n</CopyrightCheckResult>\n</xml>",
        item(1),
        item(2)
    )
}

/// A template message's report, as wechat-notifications.md §2.3 shows it.
pub fn template_plaintext() -> String {
    "<xml>\n<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>\n<FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName>\n<CreateTime>1764000000</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>\n<MsgID>3557254367693750277</MsgID>\n<Status><![CDATA[failed:user block]]></Status>\n</xml>".to_owned()
}

pub fn fixture() -> Fixture {
    fixture_of(plaintext())
}

pub fn template_fixture() -> Fixture {
    fixture_of(template_plaintext())
}

fn fixture_of(plaintext: String) -> Fixture {
    let key = AesKey::from_encoding_aes_key(ENCODING_AES_KEY).expect("fixture key is valid");
    let crypto = MessageCrypto::new(APPID, key);
    let encrypt = crypto.encrypt_with_random(&plaintext, *b"f00dfacecafebeef");
    let sealed = Sealed::sign(TOKEN, encrypt, TIMESTAMP, NONCE);
    Fixture {
        signature: signature::url_signature(TOKEN, TIMESTAMP, NONCE),
        msg_signature: sealed.msg_signature.clone(),
        body: sealed.to_push_xml("gh_4d00ed8d6399"),
        plaintext,
    }
}

impl Fixture {
    /// The receiver configuration the request is for.
    pub fn config(&self) -> CallbackConfig {
        CallbackConfig::builder(TOKEN, APPID)
            .aes_key(ENCODING_AES_KEY)
            .build()
            .expect("fixture config is valid")
    }

    /// The request's query parameters.
    pub fn query(&self) -> PushQuery {
        PushQuery {
            signature: Some(self.signature.clone()),
            timestamp: Some(TIMESTAMP.into()),
            nonce: Some(NONCE.into()),
            encrypt_type: Some("aes".into()),
            msg_signature: Some(self.msg_signature.clone()),
            ..PushQuery::default()
        }
    }

    /// "Now" for the timestamp check: the request's own time.
    pub fn now(&self) -> i64 {
        TIMESTAMP.parse().expect("numeric timestamp")
    }
}
