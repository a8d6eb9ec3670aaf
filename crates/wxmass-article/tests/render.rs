//! The rendered HTML, as snapshots (`cargo insta review` after a deliberate
//! change), and hostile Markdown neutralised or refused.

use wxmass_article::{Document, Theme};

/// Renders with every picture at a fake uploadimg URL.
fn render(markdown: &str) -> String {
    let text = format!("---\ntitle: Snapshot\ncover: c.png\n---\n{markdown}");
    let document = Document::parse("t.md", &text).expect("parse");
    let html = document
        .render(&Theme::default(), &|src| {
            Some(format!("http://mmbiz.qpic.cn/mmbiz_png/{src}/0"))
        })
        .expect("render");
    // One element per line, so snapshot diffs are readable.
    html.replace("><", ">\n<")
}

fn refused(markdown: &str) -> String {
    let text = format!("---\ntitle: Hostile\n---\n{markdown}");
    let document = Document::parse("t.md", &text).expect("parse");
    document
        .render(&Theme::default(), &|src| Some(src.to_owned()))
        .expect_err("refused")
        .to_string()
}

#[test]
fn headings_and_paragraphs() {
    insta::assert_snapshot!(render(
        "# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six\n\nA paragraph\nover two lines.  \nA hard break.\n\n---\n\nAfter a rule.\n"
    ));
}

#[test]
fn emphasis_and_code() {
    insta::assert_snapshot!(render(
        "Some *emphasis*, **strong**, ***both***, ~~struck~~ and `inline <code>`.\n\n```rust\nfn main() {\n    println!(\"<hi> & bye\");\n}\n```\n\n    indented code\n"
    ));
}

#[test]
fn lists_and_quotes() {
    insta::assert_snapshot!(render(
        "- one\n- two\n  - two a\n  - two b\n\n3. three\n4. four\n\n1. first\n\n   with a paragraph\n2. second\n\n> A quote\n>\n> > nested\n"
    ));
}

#[test]
fn tables() {
    insta::assert_snapshot!(render(
        "| Left | Center | Right |\n|:-----|:------:|------:|\n| a | **b** | 1 |\n| c | `d` | 22 |\n"
    ));
}

#[test]
fn images_and_links() {
    insta::assert_snapshot!(render(
        "![A cat](cat.png \"The cat\")\n\nSee [the docs](https://developers.weixin.qq.com/doc/) and [the docs again](https://developers.weixin.qq.com/doc/), [`code`](https://example.com/x?a=1&b=2), <https://auto.example.com>, [mail](mailto:a@example.com), [local](other.md) and [a [nested] one](https://example.com/n).\n"
    ));
}

#[test]
fn a_theme_changes_the_styles() {
    let theme = Theme::from_toml(
        "accent_color = \"#ff6600\"\ntext_color = \"#222\"\nfont_size = 15\nreferences_title = \"参考资料\"\n",
    )
    .expect("theme");
    let document = Document::parse(
        "t.md",
        "---\ntitle: T\n---\n## Hi\n\n[x](https://x.example)\n",
    )
    .expect("parse");
    let html = document
        .render(&theme, &|s| Some(s.to_owned()))
        .expect("render");
    assert!(html.contains("border-bottom:2px solid #ff6600"), "{html}");
    assert!(html.contains("font-size:15px"), "{html}");
    assert!(html.contains("color:#222"), "{html}");
    assert!(html.contains("参考资料"), "{html}");
}

#[test]
fn raw_html_is_shown_as_text_never_passed_through() {
    let html = render(
        "<script>alert(1)</script>\n\nHello <img src=x onerror=alert(1)> and <iframe src=\"https://evil\"></iframe>\n\n<form action=x><input></form>\n\n<!-- a comment -->\n\n<div onclick=\"steal()\">div</div>\n",
    );
    for tag in [
        "<script",
        "<img src=x",
        "<iframe",
        "<form",
        "<input",
        "<div",
    ] {
        assert!(!html.contains(tag), "{tag} passed through: {html}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("a comment"), "{html}");
    // Every attribute in the output is one the writer made.
    for attribute in html
        .split(' ')
        .filter_map(|w| w.split_once("=\"").map(|(a, _)| a))
    {
        assert!(
            ["style", "src", "alt", "title", "start"].contains(&attribute.trim_start_matches('<')),
            "unexpected attribute {attribute}: {html}"
        );
    }
}

#[test]
fn script_links_keep_only_their_text() {
    let html = render(
        "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](VBScript:x)\n",
    );
    assert!(!html.to_lowercase().contains("javascript"), "{html}");
    assert!(!html.contains("data:"), "{html}");
    assert!(!html.to_lowercase().contains("vbscript"), "{html}");
    assert!(!html.contains("<a "), "{html}");
    assert!(html.contains("click"), "{html}");
}

#[test]
fn hostile_pictures_are_refused_with_their_line() {
    let error = refused("fine\n\n![x](javascript:alert(1))\n");
    assert!(error.starts_with("t.md:6:"), "{error}");
    assert!(error.contains("local file or an http(s) URL"), "{error}");
    let error = refused("![x](data:image/png;base64,AAAA)\n");
    assert!(error.contains("local file or an http(s) URL"), "{error}");
}

#[test]
fn deeply_nested_lists_are_refused() {
    let mut markdown = String::new();
    for depth in 0..300 {
        markdown.push_str(&"  ".repeat(depth));
        markdown.push_str("- x\n");
    }
    let error = refused(&markdown);
    assert!(error.contains("nested more than 8 levels"), "{error}");
    let quotes = format!("{}deep\n", ">".repeat(10_000));
    assert!(refused(&quotes).contains("nested more than 8 levels"));
    // Eight levels are fine.
    let mut ok = String::new();
    for depth in 0..8 {
        ok.push_str(&"  ".repeat(depth));
        ok.push_str("- x\n");
    }
    render(&ok);
}

#[test]
fn a_ten_megabyte_file_is_refused_before_parsing() {
    let text = format!("---\ntitle: Big\n---\n{}", "word ".repeat(2_097_152));
    let error = Document::parse("big.md", &text)
        .expect_err("refused")
        .to_string();
    assert!(error.starts_with("big.md: the file is 10.0 MB"), "{error}");
    assert!(error.contains("under 1 MB"), "{error}");
}

#[test]
fn content_over_twenty_thousand_characters_is_refused() {
    let text = format!("---\ntitle: Long\n---\n{}", "很长的文章。".repeat(4_000));
    let document = Document::parse("long.md", &text).expect("parse");
    let error = document
        .render(&Theme::default(), &|s| Some(s.to_owned()))
        .expect_err("too long");
    assert!(
        error.to_string().contains("under 20,000 characters"),
        "{error}"
    );
}

#[test]
fn every_problem_of_an_article_is_reported_at_once() {
    let text = format!(
        "---\ntitle: {}\nauthor: {}\nsource_url: ftp://x\n---\nbody\n",
        "t".repeat(33),
        "作".repeat(17)
    );
    let errors = Document::parse("a.md", &text)
        .expect("parse")
        .check(true)
        .expect_err("four problems");
    let lines: Vec<Option<usize>> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(1), Some(2), Some(3), Some(4)], "{errors}");
    assert_eq!(errors.to_string().lines().count(), 4);
}

#[test]
fn front_matter_limits_name_the_line() {
    let text = format!("---\ntitle: ok\nauthor: {}\n---\nbody\n", "作".repeat(17));
    let document = Document::parse("a.md", &text).expect("parse");
    let error = document
        .check(false)
        .expect_err("author too long")
        .to_string();
    assert_eq!(error, "a.md:3: author has 17 characters; WeChat takes 16");
    let text = format!("---\ntitle: {}\n---\nbody\n", "t".repeat(33));
    let error = Document::parse("a.md", &text)
        .expect("parse")
        .check(false)
        .expect_err("title");
    assert_eq!(error.0[0].line, Some(2));
    let text = format!("---\ntitle: t\ndigest: {}\n---\nbody\n", "d".repeat(129));
    assert!(
        Document::parse("a.md", &text)
            .expect("parse")
            .check(false)
            .is_err()
    );
    let text = "---\ntitle: t\nsource_url: javascript:alert(1)\n---\nbody\n";
    let error = Document::parse("a.md", text)
        .expect("parse")
        .check(false)
        .expect_err("url");
    assert!(error.to_string().contains("https://"), "{error}");
    let no_cover = Document::parse("a.md", "---\ntitle: t\n---\nbody\n").expect("parse");
    assert!(no_cover.check(false).is_ok());
    assert!(
        no_cover
            .check(true)
            .expect_err("cover")
            .to_string()
            .contains("cover")
    );
    assert!(wxmass_article::check_count(9).is_err());
    assert!(wxmass_article::check_count(0).is_err());
    assert!(wxmass_article::check_count(8).is_ok());
}

#[test]
fn images_are_listed_with_their_lines() {
    let document = Document::parse(
        "a.md",
        "---\ntitle: t\n---\n![a](a.png)\n\ntext ![b](img/b.jpg) and ![remote](https://example.com/c.png)\n",
    )
    .expect("parse");
    let images = document.images().expect("images");
    let found: Vec<(&str, usize, bool)> = images
        .iter()
        .map(|i| (i.src.as_str(), i.line, i.is_remote()))
        .collect();
    assert_eq!(
        found,
        [
            ("a.png", 4, false),
            ("img/b.jpg", 6, false),
            ("https://example.com/c.png", 6, true)
        ]
    );
}
