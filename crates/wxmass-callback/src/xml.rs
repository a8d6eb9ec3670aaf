//! A small, strict XML reader for WeChat's push bodies, and the two escaping
//! helpers used to write XML.
//!
//! WeChat's XML is flat: a `<xml>` root, text or CDATA leaves, a few nested
//! lists. We read it into an [`Element`] tree and refuse anything a push never
//! needs and an attacker would like: a DOCTYPE (and so any entity definition),
//! references to entities other than the five predefined ones, nesting deeper
//! than [`MAX_DEPTH`], more than [`MAX_ELEMENTS`] elements, or text outside the
//! root. Attributes are ignored.

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::{Deserialize, Serialize};

/// Deepest nesting accepted; WeChat's pushes use four levels.
pub const MAX_DEPTH: usize = 16;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 10_000;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// A `<!DOCTYPE ...>` declaration: refused outright, since DTDs are how
    /// entity bombs and external entities get in.
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    /// A reference to an entity other than `lt`, `gt`, `amp`, `apos`, `quot`.
    #[error("reference to undefined entity `&{0};`")]
    UnknownEntity(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("elements nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// More than [`MAX_ELEMENTS`] elements.
    #[error("more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    /// No root element, more than one, or text outside it.
    #[error("{0}")]
    Structure(&'static str),
    /// Not well-formed, as reported by the parser.
    #[error("malformed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset where the parser stopped.
        position: u64,
        /// What it found.
        message: String,
    },
}

/// An element: its name, its text (CDATA and text joined, references
/// resolved) and its child elements in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element {
    /// The tag name, as written.
    pub name: String,
    /// The text content. Whitespace between child elements is dropped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Child elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Parses a document and returns its root element.
    ///
    /// ```
    /// use wxmass_callback::xml::{Element, XmlError};
    /// let root = Element::parse("<xml><A><![CDATA[1 < 2]]></A><B>x &amp; y</B></xml>").unwrap();
    /// assert_eq!(root.child_text("A"), Some("1 < 2"));
    /// assert_eq!(root.child_text("B"), Some("x & y"));
    /// assert_eq!(
    ///     Element::parse("<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>"),
    ///     Err(XmlError::Doctype)
    /// );
    /// ```
    pub fn parse(doc: &str) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(doc);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.allow_unmatched_ends = false;

        let mut stack: Vec<Element> = Vec::with_capacity(8);
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        loop {
            let event = reader.read_event().map_err(|e| XmlError::Malformed {
                position: reader.error_position(),
                message: e.to_string(),
            })?;
            match event {
                Event::Start(_) | Event::Empty(_) if root.is_some() => {
                    return Err(XmlError::Structure("more than one root element"));
                }
                Event::Start(start) => {
                    count += 1;
                    if count > MAX_ELEMENTS {
                        return Err(XmlError::TooManyElements);
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    stack.push(Element {
                        name: start.name().as_ref().to_owned(),
                        ..Element::default()
                    });
                }
                Event::Empty(start) => {
                    count += 1;
                    if count > MAX_ELEMENTS {
                        return Err(XmlError::TooManyElements);
                    }
                    let element = Element {
                        name: start.name().as_ref().to_owned(),
                        ..Element::default()
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                Event::End(_) => {
                    let Some(mut element) = stack.pop() else {
                        return Err(XmlError::Structure("closing tag without an opening tag"));
                    };
                    if !element.children.is_empty() && element.text.trim().is_empty() {
                        element.text.clear();
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                Event::Text(text) => {
                    let content = text.xml10_content();
                    match stack.last_mut() {
                        Some(current) => current.text.push_str(&content),
                        None if content.trim().is_empty() => {}
                        None => return Err(XmlError::Structure("text outside the root element")),
                    }
                }
                Event::CData(cdata) => match stack.last_mut() {
                    Some(current) => current.text.push_str(&cdata.xml10_content()),
                    None => return Err(XmlError::Structure("CDATA outside the root element")),
                },
                Event::GeneralRef(reference) => {
                    let Some(current) = stack.last_mut() else {
                        return Err(XmlError::Structure("reference outside the root element"));
                    };
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match predefined_entity(&reference) {
                            Some(c) => c,
                            None => {
                                return Err(XmlError::UnknownEntity(
                                    reference.chars().take(32).collect(),
                                ));
                            }
                        },
                        Err(e) => {
                            return Err(XmlError::Malformed {
                                position: reader.buffer_position(),
                                message: e.to_string(),
                            });
                        }
                    };
                    current.text.push(resolved);
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Structure("document ends inside an element"));
        }
        root.ok_or(XmlError::Structure("no root element"))
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Escapes text for use between tags.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// Makes `s` safe inside `<![CDATA[...]]>`: a `]]>` inside it is split across
/// two CDATA sections.
pub fn cdata_safe(s: &str) -> String {
    s.replace("]]>", "]]]]><![CDATA[>")
}

/// Writes `<name><![CDATA[text]]></name>`.
pub fn write_cdata_element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}><![CDATA[{}]]></{name}>", cdata_safe(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_lists() {
        let root = Element::parse(
            "<xml>\n<A>1</A>\n<L><Count>2</Count><ResultList>\n<item><X>a</X></item><item><X>b</X></item></ResultList></L></xml>",
        )
        .expect("valid");
        assert_eq!(root.name, "xml");
        assert_eq!(root.text, "");
        let items = &root
            .child("L")
            .and_then(|l| l.child("ResultList"))
            .expect("list")
            .children;
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].child_text("X"), Some("b"));
    }

    #[test]
    fn empty_elements_and_whitespace_cdata() {
        let root = Element::parse("<xml><E/><C><![CDATA[ a\nb ]]></C><R></R></xml>").expect("ok");
        assert_eq!(root.child_text("E"), Some(""));
        assert_eq!(root.child_text("C"), Some(" a\nb "));
        assert_eq!(root.child_text("R"), Some(""));
    }

    #[test]
    fn character_references_resolve() {
        let root = Element::parse("<xml><A>&#x4e2d;&#25991;&lt;</A></xml>").expect("ok");
        assert_eq!(root.child_text("A"), Some("中文<"));
    }

    #[test]
    fn hostile_documents_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>"#;
        assert_eq!(Element::parse(bomb), Err(XmlError::Doctype));
        let xxe = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>"#;
        assert_eq!(Element::parse(xxe), Err(XmlError::Doctype));
        assert!(matches!(
            Element::parse("<xml>&e;</xml>"),
            Err(XmlError::UnknownEntity(_))
        ));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(Element::parse(&deep), Err(XmlError::TooDeep));
        let wide = format!("<xml>{}</xml>", "<a/>".repeat(MAX_ELEMENTS + 1));
        assert_eq!(Element::parse(&wide), Err(XmlError::TooManyElements));
        for bad in [
            "",
            "   ",
            "<xml>",
            "<xml></yml>",
            "<xml></xml><xml></xml>",
            "text<xml/>",
            "<xml/>trailing",
            "</xml>",
            "<xml><a></xml>",
            "<xml>&#0;</xml>",
            "<xml>&#xFFFFFFFF;</xml>",
            "<xml><![CDATA[unterminated</xml>",
        ] {
            assert!(Element::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn escaping_round_trips() {
        let text = "a<b>&c]]>d";
        let mut doc = String::from("<xml>");
        write_cdata_element(&mut doc, "C", text);
        doc.push_str(&format!("<T>{}</T></xml>", escape_text(text)));
        let root = Element::parse(&doc).expect("ok");
        assert_eq!(root.child_text("C"), Some(text));
        assert_eq!(root.child_text("T"), Some(text));
    }
}
