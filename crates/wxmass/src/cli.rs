//! The command line: every command and flag, with the examples `--help` shows.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Mass messaging for WeChat Official Accounts: send to a tag, to everyone
/// or to a list of openids, and learn how it went, without ever delivering
/// the same message twice.
#[derive(Debug, Parser)]
#[command(name = "wxmass", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub account: AccountArgs,
    /// Machine-readable JSON on stdout (progress and logs go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Which account to act for; each flag overrides the profile file.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// Profile in the config file.
    #[arg(long, global = true, env = "WXMASS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The account's AppID.
    #[arg(long, global = true, env = "WXMASS_APPID", value_name = "APPID")]
    pub appid: Option<String>,
    /// The account's AppSecret (prefer WXMASS_SECRET or the profile: shells keep history).
    #[arg(
        long,
        global = true,
        env = "WXMASS_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub secret: Option<String>,
    /// API base URL, e.g. the emulator's http://127.0.0.1:8085.
    #[arg(long, global = true, env = "WXMASS_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a profile to the config file (readable by you only).
    #[command(
        after_help = "Example:\n  WXMASS_SECRET=... wxmass init --appid wx1234567890abcdef --account-type service"
    )]
    Init(InitArgs),
    /// Show the access token's status (masked), or fetch a new one.
    #[command(after_help = "Example:\n  wxmass token --refresh")]
    Token {
        /// Fetch a new token now.
        #[arg(long)]
        refresh: bool,
    },
    /// List, create, rename and delete tags.
    #[command(subcommand)]
    Tags(TagsCommand),
    /// Count or list followers, all or those with a tag.
    #[command(
        after_help = "Examples:\n  wxmass followers --count\n  wxmass followers --tag 100 --out vip.txt"
    )]
    Followers(FollowersArgs),
    /// Run the local WeChat emulator (the wxmass-emulator binary's flags).
    #[command(
        after_help = "Example:\n  wxmass emulator --listen 127.0.0.1:8085 --followers 10000 --tags 3"
    )]
    Emulator(wxmass_emulator::EmulatorArgs),
    /// Print shell completions.
    #[command(after_help = "Example:\n  wxmass completions bash > /etc/bash_completion.d/wxmass")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the profile to write.
    #[arg(long = "name", default_value = "default")]
    pub name: String,
    /// service or subscription: turns on the quota guard.
    #[arg(long, value_parser = ["service", "subscription"])]
    pub account_type: Option<String>,
    /// Make it the default profile.
    #[arg(long)]
    pub make_default: bool,
}

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// List tags with their follower counts.
    #[command(after_help = "Example:\n  wxmass tags list --json")]
    List,
    /// Create a tag (at most 30 bytes: 10 Chinese characters).
    #[command(after_help = "Example:\n  wxmass tags create 北京")]
    Create { name: String },
    /// Rename a tag.
    #[command(after_help = "Example:\n  wxmass tags rename 100 上海")]
    Rename { id: u32, name: String },
    /// Delete a tag (WeChat refuses above 100,000 followers).
    #[command(after_help = "Example:\n  wxmass tags delete 100")]
    Delete { id: u32 },
}

#[derive(Debug, Args)]
pub struct FollowersArgs {
    /// Only followers with this tag.
    #[arg(long, value_name = "ID")]
    pub tag: Option<u32>,
    /// Print the number only.
    #[arg(long)]
    pub count: bool,
    /// Write openids to this file, one per line (streams: memory stays flat).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
