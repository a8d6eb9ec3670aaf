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
        emit(value);
    } else {
        let text = text();
        if !text.is_empty() {
            emit(text);
        }
    }
}

/// Writes a line to stdout. When the reader has gone (`wxmass ... | head`),
/// the command ends quietly with success, as coreutils do: everything it
/// did is already recorded, and there is nobody left to tell.
pub fn emit(line: impl std::fmt::Display) {
    emit_bytes(format!("{line}\n").as_bytes());
}

/// Writes bytes to stdout, ending the command as [`emit`] does.
pub fn emit_bytes(bytes: &[u8]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_all(bytes).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(1);
    }
}
