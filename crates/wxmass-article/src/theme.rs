//! The look of a rendered article: colours, fonts and sizes, written into
//! inline `style` attributes (WeChat drops `<style>` and classes).
//!
//! A theme file is TOML with any of these keys; the rest keep the default:
//!
//! ```toml
//! text_color = "#333333"
//! heading_color = "#111111"
//! accent_color = "#07c160"
//! font_size = 16
//! references_title = "参考资料"
//! ```

use serde::Deserialize;

/// Colours, fonts and sizes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Theme {
    /// Body text.
    pub text_color: String,
    /// Headings and bold text.
    pub heading_color: String,
    /// Heading rules, quote bars, inline code, reference markers.
    pub accent_color: String,
    /// Quotes and the references list.
    pub muted_color: String,
    /// Code blocks, quotes and table headers.
    pub code_background: String,
    /// Table borders and rules.
    pub border_color: String,
    /// The body's font stack.
    pub font_family: String,
    /// Code's font stack.
    pub code_font_family: String,
    /// Body font size in px (12 to 24).
    pub font_size: u8,
    /// Line height (1.0 to 3.0).
    pub line_height: f32,
    /// The heading over the numbered links at the end.
    pub references_title: String,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            text_color: "#333333".into(),
            heading_color: "#1a1a1a".into(),
            accent_color: "#07c160".into(),
            muted_color: "#6a737d".into(),
            code_background: "#f6f8fa".into(),
            border_color: "#dfe2e5".into(),
            font_family:
                "-apple-system, BlinkMacSystemFont, 'PingFang SC', 'Microsoft YaHei', sans-serif"
                    .into(),
            code_font_family: "Menlo, Consolas, 'Courier New', monospace".into(),
            font_size: 16,
            line_height: 1.75,
            references_title: "References".into(),
        }
    }
}

impl Theme {
    /// Reads a theme file's text and checks every value, since each ends up
    /// inside a `style` attribute.
    pub fn from_toml(text: &str) -> Result<Theme, String> {
        let theme: Theme = toml::from_str(text).map_err(|e| e.to_string())?;
        theme.check()?;
        Ok(theme)
    }

    fn check(&self) -> Result<(), String> {
        for (key, value) in [
            ("text_color", &self.text_color),
            ("heading_color", &self.heading_color),
            ("accent_color", &self.accent_color),
            ("muted_color", &self.muted_color),
            ("code_background", &self.code_background),
            ("border_color", &self.border_color),
        ] {
            let hex = value.strip_prefix('#').unwrap_or("");
            if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{key} = {value:?}: write a colour as #rgb or #rrggbb"
                ));
            }
        }
        for (key, value) in [
            ("font_family", &self.font_family),
            ("code_font_family", &self.code_font_family),
        ] {
            let ok = !value.trim().is_empty()
                && value
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, ' ' | ',' | '-' | '\'' | '_'));
            if !ok {
                return Err(format!(
                    "{key} = {value:?}: a font list takes names, spaces, commas, hyphens and single quotes only"
                ));
            }
        }
        if !(12..=24).contains(&self.font_size) {
            return Err(format!("font_size = {}: take 12 to 24", self.font_size));
        }
        if !(1.0..=3.0).contains(&self.line_height) {
            return Err(format!(
                "line_height = {}: take 1.0 to 3.0",
                self.line_height
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_file_changes_what_it_names() {
        let theme =
            Theme::from_toml("accent_color = \"#ff6600\"\nfont_size = 15\n").expect("theme");
        assert_eq!(theme.accent_color, "#ff6600");
        assert_eq!(theme.font_size, 15);
        assert_eq!(theme.text_color, Theme::default().text_color);
    }

    #[test]
    fn values_that_could_escape_a_style_attribute_are_refused() {
        for bad in [
            "text_color = \"red\"",
            "text_color = \"#333;background:url(x)\"",
            "font_family = \"x\\\" onload=\\\"alert(1)\"",
            "font_family = \"a;b\"",
            "font_size = 99",
            "colour = \"#fff\"",
        ] {
            assert!(Theme::from_toml(bad).is_err(), "{bad}");
        }
    }
}
