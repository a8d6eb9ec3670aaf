//! Markdown to the HTML WeChat keeps.
//!
//! WeChat's article editor strips `<style>`, classes, scripts, forms and
//! event attributes, filters pictures that did not come from `uploadimg`,
//! and shows no clickable external links. So this writer emits only plain
//! elements with inline `style` attributes it builds itself from the
//! [`Theme`]; every piece of raw HTML in the Markdown is shown as text
//! (never passed through), and each link becomes its text plus a numbered
//! marker, with the URL listed under the references at the end.
//!
//! Errors are (byte offset in the body, message); [`crate::Document`] turns
//! offsets into lines.

use pulldown_cmark::{Alignment, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use crate::{MAX_NESTING, Theme, escape};

/// A picture in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// As written: a path relative to the article, or an http(s) URL.
    pub src: String,
    /// Its line in the file.
    pub line: usize,
}

impl ImageRef {
    /// Whether it is on the web rather than a local file.
    pub fn is_remote(&self) -> bool {
        self.src.starts_with("http://") || self.src.starts_with("https://")
    }
}

/// A link, listed at the end of the article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The link's text.
    pub text: String,
    /// Its URL.
    pub url: String,
}

type Failure = (usize, String);

fn parser(body: &str) -> pulldown_cmark::OffsetIter<'_, pulldown_cmark::DefaultBrokenLinkCallback> {
    Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).into_offset_iter()
}

/// Lists the pictures (src, offset) and refuses too deep nesting and
/// pictures that are neither local files nor http(s).
pub(crate) fn scan(body: &str) -> Result<Vec<(String, usize)>, Failure> {
    let mut depth = 0usize;
    let mut images = Vec::new();
    for (event, range) in parser(body) {
        match event {
            Event::Start(Tag::List(_) | Tag::BlockQuote(_)) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err((
                        range.start,
                        format!(
                            "lists and quotes are nested more than {MAX_NESTING} levels deep here; flatten them"
                        ),
                    ));
                }
            }
            Event::End(TagEnd::List(_) | TagEnd::BlockQuote(_)) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Image { dest_url, .. }) => {
                let src = dest_url.trim().to_owned();
                let scheme = src.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
                let allowed = match scheme.as_deref() {
                    None => true,
                    Some("http" | "https") => true,
                    // A Windows drive letter, not a scheme.
                    Some(s) => s.len() == 1,
                };
                if src.is_empty() || !allowed {
                    return Err((
                        range.start,
                        format!("picture {src:?}: a picture is a local file or an http(s) URL"),
                    ));
                }
                images.push((src, range.start));
            }
            _ => {}
        }
    }
    Ok(images)
}

/// Inline styles, built once per render from the theme.
struct Styles {
    section: String,
    p: &'static str,
    h: [String; 6],
    blockquote: String,
    pre: String,
    code: String,
    list: &'static str,
    li: &'static str,
    table: &'static str,
    th: String,
    td: String,
    img: &'static str,
    hr: String,
    strong: String,
    marker: String,
    references: String,
    references_title: String,
    reference: &'static str,
}

impl Styles {
    fn new(t: &Theme) -> Styles {
        let heading = |size: &str, extra: &str| {
            format!(
                "margin:1.2em 0 .6em;font-size:{size};font-weight:bold;line-height:1.4;color:{}{extra}",
                t.heading_color
            )
        };
        Styles {
            section: format!(
                "font-family:{};font-size:{}px;line-height:{};color:{};word-wrap:break-word",
                t.font_family, t.font_size, t.line_height, t.text_color
            ),
            p: "margin:0 0 1em",
            h: [
                heading("1.5em", ""),
                heading(
                    "1.3em",
                    &format!(
                        ";padding-bottom:.2em;border-bottom:2px solid {}",
                        t.accent_color
                    ),
                ),
                heading(
                    "1.15em",
                    &format!(
                        ";padding-left:.5em;border-left:4px solid {}",
                        t.accent_color
                    ),
                ),
                heading("1.05em", ""),
                heading("1em", ""),
                heading("1em", &format!(";color:{}", t.muted_color)),
            ],
            blockquote: format!(
                "margin:1em 0;padding:.6em 1em;border-left:4px solid {};background:{};color:{}",
                t.accent_color, t.code_background, t.muted_color
            ),
            pre: format!(
                "margin:1em 0;padding:.8em 1em;background:{};border-radius:4px;overflow-x:auto;white-space:pre;font-family:{};font-size:.85em;line-height:1.5",
                t.code_background, t.code_font_family
            ),
            code: format!(
                "font-family:{};font-size:.9em;padding:.1em .3em;border-radius:3px;background:{};color:{}",
                t.code_font_family, t.code_background, t.accent_color
            ),
            list: "margin:0 0 1em;padding-left:1.6em",
            li: "margin:.25em 0",
            table: "margin:1em 0;border-collapse:collapse;width:100%;font-size:.9em",
            th: format!(
                "padding:.4em .6em;border:1px solid {};background:{};font-weight:bold",
                t.border_color, t.code_background
            ),
            td: format!("padding:.4em .6em;border:1px solid {}", t.border_color),
            img: "display:block;max-width:100%;height:auto;margin:1em auto",
            hr: format!(
                "margin:1.5em 0;border:0;border-top:1px solid {}",
                t.border_color
            ),
            strong: format!("color:{}", t.heading_color),
            marker: format!("color:{};font-size:.75em", t.accent_color),
            references: format!(
                "margin-top:2em;padding-top:1em;border-top:1px solid {};font-size:.85em;color:{}",
                t.border_color, t.muted_color
            ),
            references_title: {
                let mut title = String::new();
                escape(&t.references_title, &mut title);
                title
            },
            reference: "margin:0 0 .4em;word-break:break-all",
        }
    }
}

/// An open link: its URL and the text seen so far.
struct OpenLink {
    url: String,
    autolink: bool,
    text: String,
}

/// Renders `body`. `resolve` maps each picture's src to its URL.
pub(crate) fn render(
    body: &str,
    theme: &Theme,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Failure> {
    let s = Styles::new(theme);
    let mut out = String::with_capacity(body.len() * 2);
    let mut references: Vec<Reference> = Vec::new();
    let mut links: Vec<OpenLink> = Vec::new();
    // The picture being read: (src, title, alt text so far).
    let mut image: Option<(String, String, String)> = None;
    let mut alignments: Vec<Alignment> = Vec::new();
    let mut in_head = false;
    let mut column = 0;

    let open = |out: &mut String, tag: &str, style: &str| {
        out.push('<');
        out.push_str(tag);
        out.push_str(" style=\"");
        out.push_str(style);
        out.push_str("\">");
    };
    out.push_str("<section style=\"");
    out.push_str(&s.section);
    out.push_str("\">");

    for (event, range) in parser(body) {
        // Inside a picture, only its alt text counts.
        if let Some((_, _, alt)) = &mut image {
            match event {
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::End(TagEnd::Image) => {
                    let (src, title, alt) = image.take().unwrap_or_default();
                    let url = resolve(&src).ok_or_else(|| {
                        (range.start, format!("picture {src:?} has no uploaded URL"))
                    })?;
                    out.push_str("<img src=\"");
                    escape(&url, &mut out);
                    out.push_str("\" alt=\"");
                    escape(&alt, &mut out);
                    if !title.is_empty() {
                        out.push_str("\" title=\"");
                        escape(&title, &mut out);
                    }
                    out.push_str("\" style=\"");
                    out.push_str(s.img);
                    out.push_str("\">");
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => open(&mut out, "p", s.p),
                Tag::Heading { level, .. } => {
                    let n = heading_number(level);
                    open(&mut out, &format!("h{n}"), &s.h[n - 1]);
                }
                Tag::BlockQuote(_) => open(&mut out, "blockquote", &s.blockquote),
                Tag::CodeBlock(_) => {
                    open(&mut out, "pre", &s.pre);
                    out.push_str("<code>");
                }
                Tag::HtmlBlock => open(&mut out, "p", s.p),
                Tag::List(Some(start)) => {
                    if start == 1 {
                        open(&mut out, "ol", s.list);
                    } else {
                        out.push_str(&format!("<ol start=\"{start}\" style=\"{}\">", s.list));
                    }
                }
                Tag::List(None) => open(&mut out, "ul", s.list),
                Tag::Item => open(&mut out, "li", s.li),
                Tag::Table(a) => {
                    alignments = a;
                    open(&mut out, "table", s.table);
                }
                Tag::TableHead => {
                    in_head = true;
                    column = 0;
                    out.push_str("<thead><tr>");
                }
                Tag::TableRow => {
                    column = 0;
                    out.push_str("<tr>");
                }
                Tag::TableCell => {
                    let align = match alignments.get(column) {
                        Some(Alignment::Center) => ";text-align:center",
                        Some(Alignment::Right) => ";text-align:right",
                        _ => ";text-align:left",
                    };
                    let (tag, base) = if in_head {
                        ("th", &s.th)
                    } else {
                        ("td", &s.td)
                    };
                    open(&mut out, tag, &format!("{base}{align}"));
                }
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => open(&mut out, "strong", &s.strong),
                Tag::Strikethrough => out.push_str("<del>"),
                Tag::Link {
                    link_type,
                    dest_url,
                    ..
                } => links.push(OpenLink {
                    url: dest_url.trim().to_owned(),
                    autolink: matches!(link_type, LinkType::Autolink | LinkType::Email),
                    text: String::new(),
                }),
                Tag::Image {
                    dest_url, title, ..
                } => {
                    image = Some((dest_url.trim().to_owned(), title.to_string(), String::new()));
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph | TagEnd::HtmlBlock => out.push_str("</p>"),
                TagEnd::Heading(level) => out.push_str(&format!("</h{}>", heading_number(level))),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => out.push_str("</code></pre>"),
                TagEnd::List(true) => out.push_str("</ol>"),
                TagEnd::List(false) => out.push_str("</ul>"),
                TagEnd::Item => out.push_str("</li>"),
                TagEnd::Table => out.push_str("</tbody></table>"),
                TagEnd::TableHead => {
                    in_head = false;
                    out.push_str("</tr></thead><tbody>");
                }
                TagEnd::TableRow => out.push_str("</tr>"),
                TagEnd::TableCell => {
                    out.push_str(if in_head { "</th>" } else { "</td>" });
                    column += 1;
                }
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</del>"),
                TagEnd::Link => {
                    if let Some(link) = links.pop() {
                        end_link(link, &mut references, &mut links, &s, &mut out);
                    }
                }
                _ => {}
            },
            Event::Text(text) => {
                escape(&text, &mut out);
                if let Some(link) = links.last_mut() {
                    link.text.push_str(&text);
                }
            }
            Event::Code(code) => {
                open(&mut out, "code", &s.code);
                escape(&code, &mut out);
                out.push_str("</code>");
                if let Some(link) = links.last_mut() {
                    link.text.push_str(&code);
                }
            }
            // Raw HTML is shown, never passed through; comments vanish.
            Event::Html(html) | Event::InlineHtml(html)
                if !html.trim_start().starts_with("<!--") =>
            {
                escape(&html, &mut out);
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push_str("<br>"),
            Event::Rule => {
                out.push_str("<hr style=\"");
                out.push_str(&s.hr);
                out.push_str("\">");
            }
            _ => {}
        }
    }
    if !references.is_empty() {
        open(&mut out, "section", &s.references);
        out.push_str("<p style=\"margin:0 0 .5em;font-weight:bold\">");
        out.push_str(&s.references_title);
        out.push_str("</p>");
        for (n, r) in references.iter().enumerate() {
            open(&mut out, "p", s.reference);
            out.push_str(&format!("[{}] ", n + 1));
            if !r.text.is_empty() && r.text != r.url {
                escape(&r.text, &mut out);
                out.push_str(": ");
            }
            escape(&r.url, &mut out);
            out.push_str("</p>");
        }
        out.push_str("</section>");
    }
    out.push_str("</section>");
    Ok(out)
}

/// Closes a link: web and mail links get a numbered marker and a reference
/// (one number per URL); anything else (`javascript:`, relative, anchors)
/// keeps only its text.
fn end_link(
    link: OpenLink,
    references: &mut Vec<Reference>,
    outer: &mut [OpenLink],
    s: &Styles,
    out: &mut String,
) {
    if let Some(parent) = outer.last_mut() {
        parent.text.push_str(&link.text);
    }
    let lower = link.url.to_ascii_lowercase();
    let web = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:");
    if !web || link.autolink {
        return;
    }
    let n = match references.iter().position(|r| r.url == link.url) {
        Some(i) => i + 1,
        None => {
            references.push(Reference {
                text: link.text.trim().to_owned(),
                url: link.url,
            });
            references.len()
        }
    };
    out.push_str(&format!("<sup style=\"{}\">[{n}]</sup>", s.marker));
}

fn heading_number(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}
