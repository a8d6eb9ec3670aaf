//! Markdown articles: any text either is refused with an error or renders
//! to HTML whose every tag and attribute is one the renderer writes itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass_article::{Document, Theme};

const TAGS: &[&str] = &[
    "section", "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "ol", "ul",
    "li", "table", "thead", "tbody", "tr", "th", "td", "em", "strong", "del", "img", "br", "hr",
    "sup",
];
const ATTRIBUTES: &[&str] = &["style", "src", "alt", "title", "start"];

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    // Half the inputs get a valid front matter, so the body is reached.
    let text = if data.first().is_some_and(|b| b % 2 == 0) {
        format!("---\ntitle: fuzz\n---\n{body}")
    } else {
        body.to_owned()
    };
    let Ok(document) = Document::parse("fuzz.md", &text) else { return };
    let _ = document.check(true);
    let Ok(html) = document.render(&Theme::default(), &|src| Some(src.to_owned())) else { return };
    check(&html);
});

/// Walks the tags of the output: only known tags, only known attributes,
/// every attribute value quoted.
fn check(html: &str) {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').expect("every tag is closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name = tag.split(' ').next().unwrap_or("");
        assert!(TAGS.contains(&name), "unexpected tag <{name}> in {html}");
        // Attributes: name="value" pairs; values never hold a raw quote.
        let mut attributes = &tag[name.len()..];
        while let Some(eq) = attributes.find("=\"") {
            let attribute = attributes[..eq].trim();
            assert!(ATTRIBUTES.contains(&attribute), "unexpected attribute {attribute} in {html}");
            let value_end = attributes[eq + 2..].find('"').expect("closed value") + eq + 2;
            attributes = &attributes[value_end + 1..];
        }
        assert!(attributes.trim().is_empty(), "stray text {attributes:?} in a tag in {html}");
    }
}
