//! Event parsing, with two checks: the fast path for WeChat's own layout of a
//! MASSSENDJOBFINISH gives exactly what the general reader gives (or leaves
//! the push to it), and any document the XML reader accepts, written back
//! out, parses to the same tree. Seeds in `seeds/event` start it on the layout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass_callback::Push;
use wxmass_callback::event::EventError;
use wxmass_callback::xml::{Document, Element, escape_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Push::parse(text);
    let general = Document::parse(text)
        .map_err(EventError::from)
        .and_then(|doc| Push::from_document(&doc));
    assert_eq!(parsed, general, "the fast path disagrees on {text:?}");
    if let Ok(push) = parsed {
        let _ = push.dedup_key();
        let _ = push.to_user_name();
    }
    if let Ok(tree) = Element::parse(text) {
        let mut out = String::new();
        write(&tree, &mut out);
        let again = Element::parse(&out).expect("a written tree parses");
        assert_eq!(again, tree, "round trip changed the tree: {out}");
    }
});

fn write(el: &Element<'_>, out: &mut String) {
    out.push('<');
    out.push_str(&el.name);
    out.push('>');
    if el.children.is_empty() {
        out.push_str(&escape_text(&el.text));
    } else {
        // Text between children is kept only when it is not all whitespace;
        // put it first, where the reader will find it again.
        out.push_str(&escape_text(&el.text));
        for child in &el.children {
            write(child, out);
        }
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}
