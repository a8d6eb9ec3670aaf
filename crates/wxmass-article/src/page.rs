//! A local HTML page that shows an article as a follower sees it on a
//! phone: the cover as the chat card shows it, the title, the author, the
//! body, the references and the "read original" link. It is for looking at
//! before anything is uploaded, so (unlike the article itself) it may use a
//! `<style>` block.

use crate::{Document, escape};

/// The width the page is laid out at, in CSS pixels (a common phone).
pub const PHONE_WIDTH: u32 = 390;

/// The page for `document`, with its rendered `content` and the cover's
/// `src` (a path or URL the browser can load).
pub fn page(document: &Document, content: &str, cover: Option<&str>) -> String {
    let front = &document.front;
    let mut out = String::with_capacity(content.len() + 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    escape(&front.title, &mut out);
    out.push_str("</title>\n<style>\n");
    out.push_str(&format!(
        "body {{ margin: 0; background: #ededed; }}\n\
         .phone {{ max-width: {PHONE_WIDTH}px; margin: 0 auto; background: #fff; padding: 20px 16px 40px; box-sizing: border-box; min-height: 100vh; }}\n\
         .card {{ margin: -20px -16px 20px; }}\n\
         .card img {{ display: block; width: 100%; aspect-ratio: 2.35 / 1; object-fit: cover; }}\n\
         .card p {{ margin: 8px 16px 0; color: #888; font: 13px/1.5 sans-serif; }}\n\
         h1.title {{ margin: 0 0 12px; font: bold 22px/1.4 -apple-system, 'PingFang SC', sans-serif; color: #1a1a1a; }}\n\
         .meta {{ margin-bottom: 24px; font: 15px/1.5 sans-serif; color: #576b95; }}\n\
         .original {{ margin-top: 24px; font: 15px/1.5 sans-serif; color: #576b95; }}\n"
    ));
    out.push_str("</style>\n</head>\n<body>\n<div class=\"phone\">\n");
    if let Some(cover) = cover {
        out.push_str("<div class=\"card\"><img id=\"cover\" src=\"");
        escape(cover, &mut out);
        out.push_str("\" alt=\"cover\">");
        if let Some(digest) = &front.digest {
            out.push_str("<p>");
            escape(digest, &mut out);
            out.push_str("</p>");
        }
        out.push_str("</div>\n");
    }
    out.push_str("<h1 class=\"title\" id=\"title\">");
    escape(&front.title, &mut out);
    out.push_str("</h1>\n<div class=\"meta\">");
    escape(front.author.as_deref().unwrap_or(""), &mut out);
    out.push_str("</div>\n<div id=\"content\">");
    out.push_str(content);
    out.push_str("</div>\n");
    if let Some(url) = &front.source_url {
        out.push_str("<div class=\"original\">阅读原文 · ");
        escape(url, &mut out);
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n</body>\n</html>\n");
    out
}
