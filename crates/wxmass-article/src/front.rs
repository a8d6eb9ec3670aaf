//! The front matter block: `key: value` lines between two `---` lines at the
//! top of the file, as Jekyll and Hugo writers know it. Only the subset an
//! article needs is read (plain, single- or double-quoted scalars, `#`
//! comments); anything else is an error with its line, so a typo never
//! silently drops a field.

use std::collections::HashMap;

/// The fields an article file may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatter {
    /// Required.
    pub title: String,
    /// Shown under the title.
    pub author: Option<String>,
    /// The summary in the chat list (WeChat takes the start of the body if empty).
    pub digest: Option<String>,
    /// A local JPEG or PNG, relative to the article file.
    pub cover: Option<String>,
    /// The "read original" (阅读原文) link.
    pub source_url: Option<String>,
    /// Show the cover at the top of the body.
    pub show_cover_pic: bool,
    /// Open comments.
    pub need_open_comment: bool,
    /// Only followers may comment.
    pub only_fans_can_comment: bool,
    lines: HashMap<&'static str, usize>,
}

const KEYS: [&str; 8] = [
    "title",
    "author",
    "digest",
    "cover",
    "source_url",
    "show_cover_pic",
    "need_open_comment",
    "only_fans_can_comment",
];

impl FrontMatter {
    /// The line a field was set on (the block's first line if it was not).
    pub fn line_of(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(1)
    }
}

/// Parses the block at the start of `text`. Returns the front matter, the
/// byte offset where the body starts and the body's first line; errors are
/// (line, message).
pub fn parse(text: &str) -> Result<(FrontMatter, usize, usize), (usize, String)> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err((
            1,
            "no front matter: start the file with a line `---`, then `title: ...`, then `---`"
                .into(),
        ));
    }
    let mut front = FrontMatter::default();
    let mut offset = first.len();
    let mut n = 1;
    for line in lines {
        n += 1;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim_end() == "---" || content.trim_end() == "..." {
            if front.title.trim().is_empty() {
                return Err((1, "the front matter has no title: add `title: ...`".into()));
            }
            return Ok((front, offset, n + 1));
        }
        let trimmed = content.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = content.split_once(':') else {
            return Err((n, format!("expected `key: value`, found {trimmed:?}")));
        };
        let key = key.trim();
        let Some(&key) = KEYS.iter().find(|k| **k == key) else {
            return Err((
                n,
                format!("unknown field {key:?}; the fields are {}", KEYS.join(", ")),
            ));
        };
        if front.lines.insert(key, n).is_some() {
            return Err((n, format!("{key} is set twice")));
        }
        let value = scalar(value.trim()).map_err(|m| (n, format!("{key}: {m}")))?;
        let flag = |v: &str| match v {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" | "" => Ok(false),
            other => Err((n, format!("{key} must be true or false, not {other:?}"))),
        };
        let text = (!value.is_empty()).then(|| value.clone());
        match key {
            "title" => front.title = value,
            "author" => front.author = text,
            "digest" => front.digest = text,
            "cover" => front.cover = text,
            "source_url" => front.source_url = text,
            "show_cover_pic" => front.show_cover_pic = flag(&value)?,
            "need_open_comment" => front.need_open_comment = flag(&value)?,
            _ => front.only_fans_can_comment = flag(&value)?,
        }
    }
    Err((
        1,
        "the front matter is not closed: add a line `---` after it".into(),
    ))
}

/// A YAML scalar on one line: `"double"` (with `\"`, `\\`, `\n`, `\t`),
/// `'single'` (with `''`), or plain text up to a ` #` comment.
fn scalar(raw: &str) -> Result<String, String> {
    if let Some(rest) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    return only_comment(chars.as_str()).map(|()| out);
                }
                '\\' => match chars.next() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
                },
                c => out.push(c),
            }
        }
        Err("the closing \" is missing".into())
    } else if let Some(rest) = raw.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    let rest: String = chars.collect();
                    return only_comment(&rest).map(|()| out);
                }
            } else {
                out.push(c);
            }
        }
        Err("the closing ' is missing".into())
    } else {
        let value = match raw.find(" #") {
            Some(at) => &raw[..at],
            None => raw,
        };
        if value.starts_with(['[', '{', '|', '>', '&', '*', '!']) {
            return Err(format!(
                "{value:?} is YAML this reader does not take; write the value on one line, quoted if needed"
            ));
        }
        Ok(value.trim().to_owned())
    }
}

fn only_comment(rest: &str) -> Result<(), String> {
    let rest = rest.trim();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!("unexpected {rest:?} after the quoted value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field_and_its_line() {
        let text = "---\ntitle: \"Hello: \\\"world\\\"\"\n# a comment\nauthor: 'O''Neil'\ncover: c.png # the cover\nshow_cover_pic: yes\n---\nBody\n";
        let (front, offset, line) = parse(text).expect("parse");
        assert_eq!(front.title, "Hello: \"world\"");
        assert_eq!(front.author.as_deref(), Some("O'Neil"));
        assert_eq!(front.cover.as_deref(), Some("c.png"));
        assert!(front.show_cover_pic);
        assert_eq!(front.line_of("cover"), 5);
        assert_eq!(&text[offset..], "Body\n");
        assert_eq!(line, 8);
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            ("title: x\n", 1, "no front matter"),
            ("---\ntitel: x\n---\n", 2, "unknown field \"titel\""),
            ("---\ntitle: x\ntitle: y\n---\n", 3, "set twice"),
            ("---\ntitle: \"x\n---\n", 2, "closing \""),
            (
                "---\ntitle: x\nshow_cover_pic: maybe\n---\n",
                3,
                "true or false",
            ),
            ("---\ntitle: x\n", 1, "not closed"),
            ("---\nauthor: a\n---\n", 1, "no title"),
            ("---\ntitle: [a, b]\n---\n", 2, "one line"),
            ("---\njust text\n---\n", 2, "key: value"),
        ];
        for (text, line, message) in cases {
            let (at, m) = parse(text).expect_err(text);
            assert_eq!(at, line, "{text:?}: {m}");
            assert!(m.contains(message), "{text:?}: {m}");
        }
    }
}
