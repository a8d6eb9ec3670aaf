//! One module per command. Each prints a table or sentence for people, or
//! JSON with `--json`, on stdout; progress and logs go to stderr.

pub mod api;
pub mod followers;
pub mod init;
pub mod status;
pub mod tags;
pub mod token;

/// Prints `value` as JSON, or `text` for people.
pub fn print(json: bool, value: &serde_json::Value, text: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        let text = text();
        if !text.is_empty() {
            println!("{text}");
        }
    }
}
