//! A small, strict XML reader for WeChat's push bodies, and the escaping
//! helpers used to write XML.
//!
//! WeChat's XML is flat: an `<xml>` root, text or CDATA leaves, a few nested
//! lists. We read it into an [`Element`] tree that borrows from the input, and
//! refuse anything a push never needs and an attacker would like: a DOCTYPE
//! (and so any entity definition or external entity), references to entities
//! other than the five predefined ones, nesting deeper than [`MAX_DEPTH`],
//! more than [`MAX_ELEMENTS`] elements, or text outside the root.
//!
//! It is hand-written rather than built on a general XML crate because it is
//! the hot half of the push path: it scans with `memchr`, borrows names and
//! text instead of copying them, and so reads a 1 KB push several times faster
//! than an event-based reader builds the same tree. What it accepts is a
//! subset of well-formed XML 1.0: attributes are checked for syntax and then
//! ignored, line ends are normalised to `\n`, and in mixed content the
//! whitespace between child elements is dropped.

use std::borrow::Cow;
use std::fmt::Write as _;

use memchr::{memchr, memmem};
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
    /// Not well-formed.
    #[error("malformed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong there.
        message: &'static str,
    },
}

/// An element: its name, its text (CDATA and text joined, references
/// resolved) and its child elements in document order. It borrows from the
/// document where it can; [`Element::into_owned`] detaches it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element<'a> {
    /// The tag name, as written.
    pub name: Cow<'a, str>,
    /// The text content.
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub text: Cow<'a, str>,
    /// Child elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element<'a>>,
}

impl<'a> Element<'a> {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_ref())
    }

    /// A copy that owns all its text.
    pub fn into_owned(self) -> Element<'static> {
        Element {
            name: Cow::Owned(self.name.into_owned()),
            text: Cow::Owned(self.text.into_owned()),
            children: self.children.into_iter().map(Element::into_owned).collect(),
        }
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
    pub fn parse(doc: &'a str) -> Result<Element<'a>, XmlError> {
        Ok(Document::parse(doc)?.root().to_element())
    }
}

/// A parsed document as a flat list of elements in document order: what the
/// parser builds, because appending to one list is much cheaper than moving
/// nested elements into their parents. Walk it with [`Node`]s, or turn it
/// into an [`Element`] tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    nodes: Vec<NodeData<'a>>,
    /// Text that is not a slice of the input: references resolved, line ends
    /// normalised, or pieces joined.
    owned: Vec<String>,
}

/// Plain data, so that building the list moves no owned values around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NodeData<'a> {
    name: &'a str,
    text: Text<'a>,
    /// One past the index of the last descendant.
    end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text<'a> {
    /// A slice of the input.
    Slice(&'a str),
    /// An index into [`Document::owned`].
    Owned(usize),
}

const NO_TEXT: Text<'static> = Text::Slice("");

impl<'a> Document<'a> {
    /// Parses a document.
    pub fn parse(doc: &'a str) -> Result<Document<'a>, XmlError> {
        Parser {
            doc,
            bytes: doc.as_bytes(),
            pos: 0,
        }
        .document()
    }

    /// The root element.
    pub fn root(&self) -> Node<'_, 'a> {
        Node {
            doc: self,
            index: 0,
        }
    }
}

/// An element of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'d, 'a> {
    doc: &'d Document<'a>,
    index: usize,
}

impl<'d, 'a> Node<'d, 'a> {
    fn data(&self) -> &'d NodeData<'a> {
        &self.doc.nodes[self.index]
    }

    /// The tag name.
    pub fn name(&self) -> &'a str {
        self.data().name
    }

    /// The text content.
    pub fn text(&self) -> &'d str {
        resolve(&self.doc.owned, self.data().text)
    }

    /// The text, borrowed from the input where possible.
    pub fn text_cow(&self) -> Cow<'a, str> {
        match self.data().text {
            Text::Slice(s) => Cow::Borrowed(s),
            Text::Owned(_) => Cow::Owned(self.text().to_owned()),
        }
    }

    /// The child elements, in order.
    pub fn children(&self) -> Children<'d, 'a> {
        Children {
            doc: self.doc,
            next: self.index + 1,
            end: self.data().end as usize,
        }
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<Node<'d, 'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }

    /// This element and its descendants as a tree that borrows from the input.
    pub fn to_element(&self) -> Element<'a> {
        Element {
            name: Cow::Borrowed(self.name()),
            text: self.text_cow(),
            children: self.children().map(|c| c.to_element()).collect(),
        }
    }
}

/// The children of a [`Node`].
#[derive(Debug, Clone)]
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: usize,
    end: usize,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = Node<'d, 'a>;

    fn next(&mut self) -> Option<Node<'d, 'a>> {
        if self.next >= self.end {
            return None;
        }
        let node = Node {
            doc: self.doc,
            index: self.next,
        };
        self.next = self.doc.nodes[self.next].end as usize;
        Some(node)
    }
}

struct Parser<'a> {
    doc: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn document(mut self) -> Result<Document<'a>, XmlError> {
        if let Some(position) = forbidden_control(self.bytes) {
            return Err(XmlError::Malformed {
                position,
                message: "a control character, which XML does not allow",
            });
        }
        if self.bytes.starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        self.skip_misc()?;
        match self.bytes.get(self.pos) {
            None => return Err(XmlError::Structure("no root element")),
            Some(b'<') => {}
            Some(_) => return Err(XmlError::Structure("text outside the root element")),
        }

        let mut nodes: Vec<NodeData<'a>> = Vec::with_capacity(32);
        let mut owned: Vec<String> = Vec::new();
        // Indices of the open elements.
        let mut open = OpenStack::default();
        loop {
            // Here `pos` is at a '<'.
            match self.bytes.get(self.pos + 1) {
                Some(b'/') => {
                    let Some(index) = open.pop() else {
                        return Err(XmlError::Structure("closing tag without an opening tag"));
                    };
                    self.end_tag(nodes[index].name)?;
                    let end = nodes.len();
                    let node = &mut nodes[index];
                    node.end = end as u32;
                    // Whitespace around child elements is formatting.
                    if end > index + 1 && is_blank(resolve(&owned, node.text)) {
                        node.text = NO_TEXT;
                    }
                    if open.is_empty() {
                        break;
                    }
                }
                Some(b'!') => {
                    let Some(&current) = open.last() else {
                        return Err(XmlError::Structure("markup outside the root element"));
                    };
                    if let Some(cdata) = self.bang()? {
                        push_text(&mut owned, &mut nodes[current].text, cdata);
                    }
                }
                Some(b'?') => self.processing_instruction()?,
                _ => {
                    let (name, empty) = self.start_tag()?;
                    if nodes.len() >= MAX_ELEMENTS {
                        return Err(XmlError::TooManyElements);
                    }
                    if open.is_full() {
                        return Err(XmlError::TooDeep);
                    }
                    let index = nodes.len();
                    nodes.push(NodeData {
                        name,
                        text: NO_TEXT,
                        end: index as u32 + 1,
                    });
                    if !empty {
                        open.push(index);
                    } else if open.is_empty() {
                        break;
                    }
                }
            }
            // Text up to the next '<'.
            let Some(&current) = open.last() else {
                return Err(XmlError::Structure("markup outside the root element"));
            };
            let start = self.pos;
            let (len, special) = scan_text(&self.bytes[start..])
                .ok_or(XmlError::Structure("document ends inside an element"))?;
            if len > 0 {
                self.pos += len;
                let raw = &self.doc[start..start + len];
                let has_children = nodes.len() > current + 1;
                // Whitespace-only runs after the first child are formatting.
                if has_children && !special && is_blank(raw) {
                    continue;
                }
                let text = if special {
                    self.text(raw, start)?
                } else {
                    Cow::Borrowed(raw)
                };
                push_text(&mut owned, &mut nodes[current].text, text);
            }
        }

        self.skip_misc()?;
        if self.pos < self.bytes.len() {
            return Err(XmlError::Structure("content after the root element"));
        }
        Ok(Document { nodes, owned })
    }

    fn malformed(&self, message: &'static str) -> XmlError {
        XmlError::Malformed {
            position: self.pos,
            message,
        }
    }

    /// Skips whitespace, comments and processing instructions outside the root.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            while self
                .bytes
                .get(self.pos)
                .is_some_and(u8::is_ascii_whitespace)
            {
                self.pos += 1;
            }
            let rest = &self.bytes[self.pos..];
            if rest.starts_with(b"<?") {
                self.processing_instruction()?;
            } else if rest.starts_with(b"<!--") {
                self.bang()?;
            } else if rest.starts_with(b"<!") {
                return Err(if is_doctype(rest) {
                    XmlError::Doctype
                } else {
                    XmlError::Structure("markup outside the root element")
                });
            } else {
                return Ok(());
            }
        }
    }

    /// `<!...>` at `pos`: returns CDATA content, skips a comment, refuses the rest.
    fn bang(&mut self) -> Result<Option<Cow<'a, str>>, XmlError> {
        let rest = &self.bytes[self.pos..];
        if rest.get(..9) == Some(b"<![CDATA[".as_slice()) {
            let start = self.pos + 9;
            let (len, carriage_return) = find_cdata_end(&self.bytes[start..])
                .ok_or_else(|| self.malformed("unterminated CDATA section"))?;
            self.pos = start + len + 3;
            let cdata = &self.doc[start..start + len];
            Ok(Some(if carriage_return {
                normalise_line_ends(Cow::Borrowed(cdata))
            } else {
                Cow::Borrowed(cdata)
            }))
        } else if rest.starts_with(b"<!--") {
            let start = self.pos + 4;
            let len = memmem::find(&self.bytes[start..], b"-->")
                .ok_or_else(|| self.malformed("unterminated comment"))?;
            self.pos = start + len + 3;
            Ok(None)
        } else if is_doctype(rest) {
            Err(XmlError::Doctype)
        } else {
            Err(self.malformed("unknown markup declaration"))
        }
    }

    fn processing_instruction(&mut self) -> Result<(), XmlError> {
        let start = self.pos + 2;
        let len = memmem::find(&self.bytes[start..], b"?>")
            .ok_or_else(|| self.malformed("unterminated processing instruction"))?;
        self.pos = start + len + 2;
        Ok(())
    }

    /// A start tag at `pos`; returns its name and whether it is empty (`/>`).
    fn start_tag(&mut self) -> Result<(&'a str, bool), XmlError> {
        self.pos += 1;
        let name = self.name()?;
        loop {
            let had_space = self.skip_space();
            match self.bytes.get(self.pos) {
                Some(b'>') => {
                    self.pos += 1;
                    return Ok((name, false));
                }
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok((name, true));
                }
                None => return Err(self.malformed("document ends inside a tag")),
                Some(_) if !had_space => {
                    return Err(self.malformed("expected whitespace before an attribute"));
                }
                Some(_) => self.attribute()?,
            }
        }
    }

    /// Checks one `name="value"` and skips it.
    fn attribute(&mut self) -> Result<(), XmlError> {
        self.name()?;
        self.skip_space();
        if self.bytes.get(self.pos) != Some(&b'=') {
            return Err(self.malformed("expected '=' after an attribute name"));
        }
        self.pos += 1;
        self.skip_space();
        let quote = match self.bytes.get(self.pos) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(self.malformed("attribute value must be quoted")),
        };
        let start = self.pos + 1;
        let len = memchr(quote, &self.bytes[start..])
            .ok_or_else(|| self.malformed("unterminated attribute value"))?;
        if memchr(b'<', &self.bytes[start..start + len]).is_some() {
            return Err(self.malformed("'<' in an attribute value"));
        }
        self.pos = start + len + 1;
        Ok(())
    }

    /// The end tag of the element `open` at `pos` (`</open>`).
    fn end_tag(&mut self, open: &str) -> Result<(), XmlError> {
        self.pos += 2;
        let rest = &self.bytes[self.pos..];
        // A byte loop: names are short, and `starts_with` would call memcmp.
        let name_matches = rest.len() > open.len()
            && open.bytes().zip(rest).all(|(a, &b)| a == b)
            && (rest[open.len()] == b'>' || rest[open.len()].is_ascii_whitespace());
        if !name_matches {
            return Err(self.malformed("closing tag does not match the open element"));
        }
        self.pos += open.len();
        self.skip_space();
        if self.bytes.get(self.pos) != Some(&b'>') {
            return Err(self.malformed("expected '>' to close an end tag"));
        }
        self.pos += 1;
        Ok(())
    }

    /// A name at `pos`: a letter, '_', ':' or non-ASCII first, then also
    /// digits, '-' and '.'.
    fn name(&mut self) -> Result<&'a str, XmlError> {
        let start = self.pos;
        match self.bytes.get(start) {
            Some(&b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80 => {}
            _ => return Err(self.malformed("expected a name")),
        }
        let len = self.bytes[start..]
            .iter()
            .position(|&b| !NAME_BYTE[b as usize])
            .unwrap_or(self.bytes.len() - start);
        self.pos = start + len;
        // `len` stops at an ASCII byte or the end, so this is a char boundary.
        Ok(&self.doc[start..start + len])
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Character data with a '&' or '\r' in it, which starts at byte `at`:
    /// references resolved, line ends normalised.
    fn text(&self, raw: &'a str, at: usize) -> Result<Cow<'a, str>, XmlError> {
        let Some(first) = memchr(b'&', raw.as_bytes()) else {
            return Ok(normalise_line_ends(Cow::Borrowed(raw)));
        };
        let malformed = |message| XmlError::Malformed {
            position: at,
            message,
        };
        let mut out = String::with_capacity(raw.len());
        out.push_str(&raw[..first]);
        let mut rest = &raw[first..];
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let after = &rest[amp + 1..];
            let semi = after
                .find(';')
                .filter(|&i| i <= 12)
                .ok_or_else(|| malformed("'&' that does not start a reference"))?;
            let reference = &after[..semi];
            out.push(resolve_reference(reference).ok_or_else(|| {
                if reference.starts_with('#') {
                    malformed("invalid character reference")
                } else {
                    XmlError::UnknownEntity(reference.chars().take(32).collect())
                }
            })?);
            rest = &after[semi + 1..];
        }
        out.push_str(rest);
        Ok(normalise_line_ends(Cow::Owned(out)))
    }
}

/// The indices of the open elements, on the stack: depth is capped anyway.
#[derive(Default)]
struct OpenStack {
    items: [usize; MAX_DEPTH],
    len: usize,
}

impl OpenStack {
    fn push(&mut self, index: usize) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = index;
            self.len += 1;
        }
    }

    fn pop(&mut self) -> Option<usize> {
        self.len = self.len.checked_sub(1)?;
        Some(self.items[self.len])
    }

    fn last(&self) -> Option<&usize> {
        self.items[..self.len].last()
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn is_full(&self) -> bool {
        self.len == MAX_DEPTH
    }
}

/// Bytes allowed after the first in a name: ASCII letters and digits, `_`,
/// `:`, `-`, `.`, and any byte of a multi-byte character.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.') || c >= 0x80;
        b += 1;
    }
    table
};

/// Where `]]>` starts, and whether a `\r` comes before it. CDATA in pushes
/// is mostly short text with no `]` at all: the first bytes are checked in a
/// plain loop (cheaper than `memchr`'s setup for a word or a number), the
/// rest with `memchr` for `]`, which beats a general substring search.
pub(crate) fn find_cdata_end(haystack: &[u8]) -> Option<(usize, bool)> {
    let mut carriage_return = false;
    for (i, &b) in haystack.iter().take(SHORT_RUN).enumerate() {
        match b {
            b']' if haystack[i..].starts_with(b"]]>") => return Some((i, carriage_return)),
            b'\r' => carriage_return = true,
            _ => {}
        }
    }
    let from = SHORT_RUN.min(haystack.len());
    let end = from + long_cdata_end(&haystack[from..])?;
    Some((
        end,
        carriage_return || memchr(b'\r', &haystack[from..end]).is_some(),
    ))
}

fn long_cdata_end(haystack: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr(b']', &haystack[from..]) {
        let at = from + i;
        if haystack[at..].starts_with(b"]]>") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn is_doctype(rest: &[u8]) -> bool {
    rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE")
}

fn resolve<'s>(owned: &'s [String], text: Text<'s>) -> &'s str {
    match text {
        Text::Slice(s) => s,
        Text::Owned(i) => owned.get(i).map_or("", String::as_str),
    }
}

/// Appends a piece of text, borrowing when it is the only one.
fn push_text<'a>(owned: &mut Vec<String>, text: &mut Text<'a>, piece: Cow<'a, str>) {
    if piece.is_empty() {
        return;
    }
    *text = match (*text, piece) {
        (Text::Slice(""), Cow::Borrowed(piece)) => Text::Slice(piece),
        (Text::Slice(""), Cow::Owned(piece)) => {
            owned.push(piece);
            Text::Owned(owned.len() - 1)
        }
        (Text::Slice(before), piece) => {
            owned.push([before, &piece].concat());
            Text::Owned(owned.len() - 1)
        }
        (Text::Owned(i), piece) => {
            if let Some(joined) = owned.get_mut(i) {
                joined.push_str(&piece);
            }
            Text::Owned(i)
        }
    };
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_whitespace())
}

/// Runs shorter than this are scanned byte by byte, longer ones with memchr.
const SHORT_RUN: usize = 32;

/// Finds the '<' that ends a run of character data, and whether the run has a
/// '&' or '\r' that needs work. Runs in pushes are short (a number, a word),
/// where a plain loop beats `memchr`'s setup; long runs fall back to it.
fn scan_text(bytes: &[u8]) -> Option<(usize, bool)> {
    const SHORT: usize = SHORT_RUN;
    let mut special = false;
    for (i, &b) in bytes.iter().take(SHORT).enumerate() {
        match b {
            b'<' => return Some((i, special)),
            b'&' | b'\r' => special = true,
            _ => {}
        }
    }
    if bytes.len() <= SHORT {
        return None;
    }
    let len = SHORT + memchr(b'<', &bytes[SHORT..])?;
    let special = special || memchr::memchr2(b'&', b'\r', &bytes[SHORT..len]).is_some();
    Some((len, special))
}

fn has_carriage_return(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 32 {
        bytes.contains(&b'\r')
    } else {
        memchr(b'\r', bytes).is_some()
    }
}

fn normalise_line_ends(s: Cow<'_, str>) -> Cow<'_, str> {
    if !has_carriage_return(&s) {
        return s;
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

fn resolve_reference(reference: &str) -> Option<char> {
    let code = if let Some(hex) = reference.strip_prefix("#x") {
        u32::from_str_radix(hex, 16).ok()?
    } else if let Some(dec) = reference.strip_prefix('#') {
        dec.parse().ok()?
    } else {
        return match reference {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => None,
        };
    };
    char::from_u32(code).filter(|&c| is_xml_char(c))
}

/// XML 1.0's `Char`: tab, newline, carriage return, and everything from the
/// space up except U+FFFE and U+FFFF (`char` already excludes surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Where the first C0 control byte other than tab, newline and carriage
/// return stands: XML does not allow them, raw or as references, and they
/// are what would split a log line or drive a terminal.
pub(crate) fn forbidden_control(bytes: &[u8]) -> Option<usize> {
    const fn forbidden(b: u8) -> bool {
        b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'
    }
    // Whole chunks without an early exit, so the check compiles to vector
    // compares; the position is looked up only in the chunk that has one.
    let mut offset = 0;
    for chunk in bytes.chunks(64) {
        if chunk.iter().fold(false, |bad, &b| bad | forbidden(b)) {
            return chunk.iter().position(|&b| forbidden(b)).map(|i| offset + i);
        }
        offset += chunk.len();
    }
    None
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
    fn prolog_comments_attributes_and_empty_elements() {
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n<xml a=\"1\" b='x > y'><E/><F k=\"v\" /><!-- c --><C><![CDATA[ a\r\nb ]]></C><R></R><?pi x?></xml>\n<!-- after -->\n";
        let root = Element::parse(doc).expect("ok");
        assert_eq!(root.child_text("E"), Some(""));
        assert_eq!(root.child_text("F"), Some(""));
        assert_eq!(root.child_text("C"), Some(" a\nb "));
        assert_eq!(root.child_text("R"), Some(""));
        assert_eq!(root.children.len(), 4);
    }

    #[test]
    fn references_resolve() {
        let root = Element::parse(
            "<xml><A>&#x4e2d;&#25991;&lt;&gt;&amp;&apos;&quot;</A><B>a&amp;b</B></xml>",
        )
        .expect("ok");
        assert_eq!(root.child_text("A"), Some("中文<>&'\""));
        assert_eq!(root.child_text("B"), Some("a&b"));
    }

    #[test]
    fn document_walks_like_the_tree() {
        let doc = Document::parse("<xml><A>1</A><L><i>x</i><i>y</i></L><B/></xml>").expect("ok");
        let root = doc.root();
        let names: Vec<_> = root.children().map(|c| c.name()).collect();
        assert_eq!(names, ["A", "L", "B"]);
        let items: Vec<_> = root
            .child("L")
            .expect("L")
            .children()
            .map(|c| c.text())
            .collect();
        assert_eq!(items, ["x", "y"]);
        assert_eq!(root.child_text("B"), Some(""));
        assert_eq!(root.child("Z").map(|n| n.name()), None);
    }

    #[test]
    fn text_is_borrowed_when_it_can_be() {
        let doc = "<xml><A><![CDATA[cdata]]></A><B>plain</B></xml>";
        let root = Element::parse(doc).expect("ok");
        assert!(
            root.children
                .iter()
                .all(|c| matches!(c.text, Cow::Borrowed(_)))
        );
        assert!(matches!(root.children[0].name, Cow::Borrowed(_)));
    }

    #[test]
    fn mixed_content_keeps_text() {
        let root = Element::parse("<xml>head <a/> tail</xml>").expect("ok");
        assert_eq!(root.text, "head  tail");
        let root = Element::parse("<xml><A>x<![CDATA[y]]>z</A></xml>").expect("ok");
        assert_eq!(root.child_text("A"), Some("xyz"));
    }

    #[test]
    fn hostile_documents_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>"#;
        assert_eq!(Element::parse(bomb), Err(XmlError::Doctype));
        let xxe = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>"#;
        assert_eq!(Element::parse(xxe), Err(XmlError::Doctype));
        assert_eq!(
            Element::parse("<xml><!DOCTYPE x></xml>"),
            Err(XmlError::Doctype)
        );
        assert_eq!(Element::parse("<!doctype x><xml/>"), Err(XmlError::Doctype));
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
            "<xml>&#27;[31m</xml>",
            "<xml>&#x1b;</xml>",
            "<xml>&#xFFFE;</xml>",
            "<xml>\u{1b}[31mred</xml>",
            "<xml><a><![CDATA[\0]]></a></xml>",
            "<xml>\u{7}</xml>",
            "<xml>&#xD800;</xml>",
            "<xml>&#xFFFFFFFF;</xml>",
            "<xml>& x</xml>",
            "<xml>&amp</xml>",
            "<xml><![CDATA[unterminated</xml>",
            "<xml><!-- unterminated </xml>",
            "<xml><? unterminated </xml>",
            "<xml a=1></xml>",
            "<xml a=\"1\"b=\"2\"></xml>",
            "<xml a=\"<\"></xml>",
            "<xml a></xml>",
            "<xml a=\"1></xml>",
            "<1xml></1xml>",
            "<xml></ xml>",
            "<xml></xml",
            "<xml><a/ ></xml>",
            "<xml><!ELEMENT x></xml>",
            "<![CDATA[x]]><xml/>",
            "<xml",
            "<",
        ] {
            assert!(Element::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn blank_text_around_children_is_dropped_however_it_was_built() {
        // "\r\n" is normalised into owned text; CDATA whitespace joins pieces.
        for doc in [
            "<xml>\r\n<a/>\r\n</xml>",
            "<xml> <![CDATA[ ]]><a/></xml>",
            "<xml>&#32;<a/></xml>",
        ] {
            let root = Element::parse(doc).expect("ok");
            assert_eq!(root.text, "", "{doc:?}");
        }
    }

    #[test]
    fn cdata_ends_and_line_ends_are_found_near_and_far() {
        for pad in [0, 5, 31, 32, 33, 100] {
            let lead = "x".repeat(pad);
            let doc = format!("<xml><A><![CDATA[{lead}]]x]\r\ny\rz]]></A></xml>");
            let root = Element::parse(&doc).expect("parse");
            assert_eq!(
                root.child_text("A"),
                Some(format!("{lead}]]x]\ny\nz").as_str()),
                "pad {pad}"
            );
        }
        assert!(Element::parse("<xml><A><![CDATA[never closed]]</A></xml>").is_err());
    }

    #[test]
    fn multibyte_names_and_text() {
        let root = Element::parse("<xml><名字>值</名字></xml>").expect("ok");
        assert_eq!(root.child_text("名字"), Some("值"));
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

    #[test]
    fn owned_copy_is_equal() {
        let doc = String::from("<xml><A>1</A><B><![CDATA[2]]></B></xml>");
        let owned = Element::parse(&doc).expect("ok").into_owned();
        drop(doc);
        assert_eq!(owned.child_text("B"), Some("2"));
    }
}
