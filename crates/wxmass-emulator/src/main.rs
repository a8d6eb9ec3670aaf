//! `wxmass-emulator`: a local WeChat Official Account API server.
//!
//! ```text
//! wxmass-emulator --listen 127.0.0.1:0 --followers 10000 --tags 3
//! ```
//! The first line on stdout is `wxmass-emulator listening on http://HOST:PORT`.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use wxmass_emulator::EmulatorArgs;

/// A faithful local WeChat Official Account API for mass messaging: tokens,
/// media, news, tags, followers, mass send and MASSSENDJOBFINISH pushes, with
/// an admin API under /_emulator/.
#[derive(Debug, Parser)]
#[command(
    name = "wxmass-emulator",
    version,
    after_help = "Example:\n  wxmass-emulator --listen 127.0.0.1:8085 --followers 100000 --tags 5 \\\n      --callback-url http://127.0.0.1:8080/wechat --callback-mode safe \\\n      --callback-aes-key abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n\nThen point any SDK at http://127.0.0.1:8085 instead of https://api.weixin.qq.com."
)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    wxmass_emulator::init_logging();
    let cli = Cli::parse();
    match wxmass_emulator::run(&cli.args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wxmass-emulator: {e}");
            ExitCode::from(2)
        }
    }
}
