//! What every command writes: JSON or text on stdout (a closed pipe ends
//! the command quietly), questions before what cannot be undone, and text
//! from outside made fit for a terminal. A leaf: the commands and the
//! modules they share use it.

/// Asks `question` on the terminal before something that cannot be undone;
/// `yes` (`--yes`) answers for the user. Without a terminal and without
/// `--yes` it refuses, saying `refused` and how to go ahead.
pub fn confirm(question: &str, refused: &str, yes: bool) -> anyhow::Result<()> {
    use std::io::{IsTerminal as _, Write as _};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{refused} without --yes: there is no terminal to ask");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        anyhow::bail!("not confirmed: nothing done");
    }
    Ok(())
}

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

/// Text from outside (a server, a file), fit for a terminal: control
/// characters become spaces.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
