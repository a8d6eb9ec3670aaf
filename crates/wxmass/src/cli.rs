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
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// The journal file (default: journal.db in the data directory).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub journal: Option<PathBuf>,
    /// Keep campaigns in PostgreSQL instead of the journal file, so that
    /// several `wxmass worker`s (on any hosts) send them together, e.g.
    /// postgres://wxmass@db.internal/wxmass.
    #[arg(
        long,
        global = true,
        env = "WXMASS_DATABASE_URL",
        value_name = "URL",
        conflicts_with = "journal",
        help_heading = "Global options",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// How many connections a PostgreSQL --database opens at most, per
    /// process (mind PostgreSQL's max_connections with many servers and
    /// workers).
    #[arg(
        long,
        global = true,
        env = "WXMASS_DATABASE_CONNECTIONS",
        value_name = "N",
        default_value_t = wxmass_campaign::store::DEFAULT_CONNECTIONS as u16,
        value_parser = clap::value_parser!(u16).range(1..=1000),
        help_heading = "Global options"
    )]
    pub database_connections: u16,
    /// Read the campaigns of a `wxmass server` instead of this machine's
    /// journal (`campaigns` and `status`), e.g. https://wxmass.example.com.
    /// Given before the command.
    #[arg(
        long,
        env = "WXMASS_SERVER_URL",
        value_name = "URL",
        conflicts_with_all = ["journal", "database"],
        help_heading = "Global options"
    )]
    pub server: Option<String>,
    /// The API token for --server (prefer WXMASS_SERVER_TOKEN: shells keep
    /// history). Any role may read.
    #[arg(
        long = "token",
        env = "WXMASS_SERVER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        help_heading = "Global options"
    )]
    pub server_token: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Which account to act for; each flag overrides the profile file.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// Profile in the config file.
    #[arg(
        long,
        global = true,
        help_heading = "Account",
        env = "WXMASS_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// The account's AppID.
    #[arg(
        long,
        global = true,
        help_heading = "Account",
        env = "WXMASS_APPID",
        value_name = "APPID"
    )]
    pub appid: Option<String>,
    /// The account's AppSecret (prefer WXMASS_SECRET or the profile: shells keep history).
    #[arg(
        long,
        global = true,
        help_heading = "Account",
        env = "WXMASS_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub secret: Option<String>,
    /// API base URL, e.g. the emulator's http://127.0.0.1:8085.
    #[arg(
        long,
        global = true,
        help_heading = "Account",
        env = "WXMASS_API_BASE",
        value_name = "URL"
    )]
    pub api_base: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a profile to the config file (readable by you only).
    #[command(
        after_help = "Example:\n  WXMASS_SECRET=... wxmass init --appid wx1234567890abcdef --account-type service"
    )]
    Init(InitArgs),
    /// Show the access token's status (masked), or have WeChat issue a new one.
    #[command(after_help = "Example:\n  wxmass token --refresh")]
    Token {
        /// Have WeChat issue a new token now (stable_token with force_refresh: 20 a day, 30 s apart).
        #[arg(long)]
        refresh: bool,
    },
    /// List, create, rename and delete tags; tag followers from a file.
    #[command(
        subcommand,
        after_help = "Examples:\n  wxmass tags list\n  wxmass tags create VIP\n  wxmass tags add --tag 100 --openids vip.txt\n  wxmass tags delete 100 --yes"
    )]
    Tags(TagsCommand),
    /// List, add and delete the account's template messages (for `notify --template`).
    #[command(
        subcommand,
        after_help = "Examples:\n  wxmass templates industry 1 2\n  wxmass templates add 47123 --keyword 商品名称 --keyword 快递公司\n  wxmass templates list"
    )]
    Templates(TemplatesCommand),
    /// Count or list followers, all or those with a tag.
    #[command(
        after_help = "Examples:\n  wxmass followers --count\n  wxmass followers --tag 100 --out vip.txt"
    )]
    Followers(FollowersArgs),
    /// Send a mass message as a journalled campaign: safe to rerun and to kill.
    #[command(
        after_help = "Examples:\n  wxmass send --text 'Hello' --tag 100\n  wxmass send --image a.jpg --all --yes\n  wxmass send --article post.md --article more.md --tag 100\n  wxmass send --video talk.mp4 --title 'Our talk' --description '12 minutes' --tag 100\n  wxmass send --text 'Hi' --openids vip.txt --batch-size 5000 --campaign vip-2026-11\n\nA rerun of the same command resumes an unfinished campaign and sends nothing twice."
    )]
    Send(SendArgs),
    /// Send a notice follower by follower (template, subscription, customer service): safe to rerun and to kill
    #[command(
        after_help = "Each follower is a recipient recorded before anything is sent, then `sending` before its request\nand `sent`, `failed` (with WeChat's errcode) or `unknown` after. A template message is sent again\nafter a crash with its client_msg_id, which WeChat honours for 10 minutes; after that, and for\ncustomer-service and subscription sends (which have no such key), a follower cut off mid-send is\n`unknown` and is sent again only with --resend-unknown.\n\nExamples:\n  wxmass notify --template TEMPLATE_ID --data thing1=钢笔 --data time4='2026-12-06 10:00' --openids buyers.txt\n  wxmass notify --text '您的订单已发货' --template TEMPLATE_ID --data thing1=钢笔 --via auto --tag 100 --dry-run\n  wxmass notify --subscription PRI_TMPL_ID --data thing1=上课提醒 --openids subscribers.txt\n  wxmass status CAMPAIGN --unknown > unknown.csv"
    )]
    Notify(NotifyArgs),
    /// Send the message to one phone first: a follower's openid or a WeChat ID.
    #[command(
        after_help = "Examples:\n  wxmass preview --text 'Hello' --to oV5CrjpxgaGXNHIQigzNlgLTnwic\n  wxmass preview --article post.md --wxname my_wechat_id\n  wxmass preview --image a.jpg --wxname my_wechat_id"
    )]
    Preview(PreviewArgs),
    /// Upload a file (temporary, 3 days, or permanent); list or delete material.
    #[command(
        subcommand,
        after_help = "Examples:\n  wxmass media upload cover.jpg --type thumb\n  wxmass media upload a.png --type image --permanent\n  wxmass media list --type image\n  wxmass media delete MEDIA_ID --yes"
    )]
    Media(MediaCommand),
    /// List or delete drafts (`send --article --draft` makes them).
    #[command(
        subcommand,
        after_help = "Examples:\n  wxmass drafts list\n  wxmass drafts delete MEDIA_ID --yes"
    )]
    Drafts(DraftsCommand),
    /// Look at a Markdown article before anything is uploaded.
    #[command(
        subcommand,
        after_help = "Example:\n  wxmass article render post.md --out post.html"
    )]
    Article(ArticleCommand),
    /// Look up or delete a sent job.
    #[command(
        subcommand,
        after_help = "Examples:\n  wxmass mass get 1000000001\n  wxmass mass delete 1000000001 --yes"
    )]
    Mass(MassCommand),
    /// Show or set the mass-send speed (0 fastest .. 4 slowest).
    #[command(after_help = "Examples:\n  wxmass speed\n  wxmass speed set 2")]
    Speed {
        #[command(subcommand)]
        action: Option<SpeedAction>,
    },
    /// Publish articles without notifying followers (发布): a draft, then freepublish, followed to its end.
    #[command(
        after_help = "Examples:\n  wxmass publish --article post.md --yes\n  wxmass publish --article a.md --article b.md --campaign weekly-2026-49 --json\n\nThe articles are saved as a draft (draft/add) and the draft is submitted (freepublish/submit):\nno notification, no mass-send quota, not in the history list. The submission is journalled at once;\nrerunning the same command follows that publish and never submits it twice. The end comes from the\nPUBLISHJOBFINISH report `wxmass serve` records in the same journal, or from freepublish/get."
    )]
    Publish(PublishArgs),
    /// Show a campaign: batches, msg_ids, statuses, reports; a notice's recipients by state.
    #[command(
        after_help = "Examples:\n  wxmass status\n  wxmass status vip-2026-11 --refresh --json\n  wxmass status --unknown\n  WXMASS_SERVER_TOKEN=wxm_... wxmass --server https://wxmass.example.com status autumn-news"
    )]
    Status {
        /// A campaign (default: the newest).
        campaign: Option<String>,
        /// Ask WeChat (mass/get) for the status of each of its jobs first:
        /// a job deleted since, or one sent with --no-wait.
        #[arg(long, conflicts_with = "unknown")]
        refresh: bool,
        /// Of a notice (`notify`): its recipients reported unknown, as CSV.
        /// Without a campaign: reports `serve` received for jobs no campaign
        /// knows, and reports that contradict the first one recorded for
        /// their job.
        #[arg(long, conflicts_with = "failed")]
        unknown: bool,
        /// Of a notice (`notify`): its recipients that failed, with WeChat's
        /// errcode, as CSV.
        #[arg(long, requires = "campaign", conflicts_with = "refresh")]
        failed: bool,
    },
    /// List the campaigns in the journal (or on a server, with --server).
    #[command(
        after_help = "Examples:\n  wxmass campaigns --json\n  WXMASS_SERVER_TOKEN=wxm_... wxmass --server https://wxmass.example.com campaigns"
    )]
    Campaigns,
    /// The comments on a campaign's articles: list, open, close, reply, feature, delete.
    #[command(
        group(clap::ArgGroup::new("action").args(["open", "close", "reply", "elect", "delete"])),
        after_help = "Examples:\n  wxmass comments weekly-news --article 1 --open\n  wxmass comments weekly-news\n  wxmass comments weekly-news --article 1 --reply 3 \"谢谢！\"\n  wxmass comments weekly-news --article 1 --elect 3\n\nArticles count from 1 (the comment API's own index from 0 stays inside wxmass). Comment ids are\nthose the list shows; each comment takes one reply."
    )]
    Comments {
        /// The campaign (`wxmass campaigns` lists them).
        campaign: String,
        /// Which article, from 1 (needed to act on a campaign of several).
        #[arg(long, value_name = "N")]
        article: Option<u32>,
        /// Let followers comment on the article.
        #[arg(long)]
        open: bool,
        /// Stop comments on the article.
        #[arg(long)]
        close: bool,
        /// Reply TEXT to comment ID (1 to 600 characters).
        #[arg(long, num_args = 2, value_names = ["ID", "TEXT"])]
        reply: Option<Vec<String>>,
        /// Feature (精选) comment ID.
        #[arg(long, value_name = "ID")]
        elect: Option<i64>,
        /// Delete comment ID.
        #[arg(long, value_name = "ID")]
        delete: Option<i64>,
    },
    /// How a campaign's articles were read, or the account's followers and reads by day.
    #[command(
        after_help = "Examples:\n  wxmass stats weekly-news\n  wxmass stats weekly-news --csv > weekly-news.csv\n  wxmass stats account --from 2026-11-01 --to 2026-11-30\n\nThe figures are WeChat's datacube (getarticletotal, for each day the campaign's jobs went out):\na day's are there from 08:00 Beijing time the next day, and grow for a week. --csv writes UTF-8\nwith a byte-order mark (Excel reads the Chinese titles), one row per article and day.\nA campaign named `account` is `wxmass stats -- account`."
    )]
    Stats(StatsArgs),
    /// Receive WeChat's pushes and record job reports in the journal.
    #[command(
        after_help = "Example:\n  WXMASS_CALLBACK_TOKEN=mytoken WXMASS_CALLBACK_AES_KEY=... wxmass serve --appid wx... --listen 0.0.0.0:8080\n\nSet the account's server URL (mp.weixin.qq.com > Settings and Development > Basic Configuration)\nto this address, with the same token and EncodingAESKey, in safe mode. serve needs the AppID\n(--appid, WXMASS_APPID or the profile) but never the AppSecret: it calls no API.\n\nEach report is recorded in the journal before WeChat is answered; reports for jobs no campaign\nknows, and reports that contradict an earlier one, are listed by `wxmass status --unknown`.\nLogs go to stderr; WXMASS_LOG or RUST_LOG sets their level (e.g. WXMASS_LOG=debug)."
    )]
    Serve(ServeArgs),
    /// Send the batches of campaigns in a shared database, beside other workers
    #[command(
        after_help = "Example:\n  WXMASS_DATABASE_URL=postgres://wxmass@db/wxmass wxmass worker\n\nEvery worker on the database sends the account's campaigns together: each batch is claimed\nby one worker under a lease; a worker that dies leaves its batches to the others when the\nlease runs out, and they resend them with the same clientmsgid, which WeChat refuses as a\nduplicate, so nothing is delivered twice. `wxmass --database URL send ...` plans a campaign\n(and sends with them). Ctrl-C or SIGTERM: stop claiming, finish what is in flight, exit."
    )]
    Worker(WorkerArgs),
    /// Run the campaign service for teams: the HTTP API under /api/v1
    #[command(
        after_help = "Examples:\n  wxmass server init-admin --name alice        # the first user; prints an admin API token once\n  wxmass server --listen 127.0.0.1:8090\n  wxmass --database postgres://wxmass@db/wxmass server --listen 0.0.0.0:8090\n  curl -H 'Authorization: Bearer wxm_...' http://127.0.0.1:8090/api/v1/me\n\nThe store is the journal: the SQLite file (--journal, or --database sqlite:PATH) or PostgreSQL\n(--database postgres://..., shared by any number of instances). Accounts' secrets are sealed\nwith the server key: WXMASS_SERVER_KEY (32 bytes, base64) or the file --key-file (default\nserver.key in the data directory, made 0600 on first start). Every instance needs the same key.\nThe API is described at /api/v1/openapi.json."
    )]
    Server(ServerArgs),
    /// Run a whole campaign on a built-in emulator: no account, no network.
    #[command(after_help = "Examples:\n  wxmass demo\n  wxmass demo --json")]
    Demo {
        #[command(flatten)]
        unused: DemoUnused,
    },
    /// Run the local WeChat emulator (the wxmass-emulator binary's flags).
    #[command(
        after_help = "Example:\n  wxmass emulator --listen 127.0.0.1:8085 --followers 10000 --tags 3"
    )]
    Emulator {
        #[command(flatten)]
        args: wxmass_emulator::EmulatorArgs,
        #[command(flatten)]
        unused: EmulatorUnused,
    },
    /// Print shell completions.
    #[command(after_help = "Example:\n  wxmass completions bash > /etc/bash_completion.d/wxmass")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `wxmass worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Only this campaign (default: every campaign of the account with
    /// batches left).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Exit when no batch is left to send, instead of waiting for more
    /// (with --campaign: once that campaign, planned now or later, is sent).
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub sending: SendingArgs,
}

/// How a worker (`wxmass worker`, each `wxmass server`) sends.
#[derive(Debug, Args)]
pub struct SendingArgs {
    /// Mass sends a minute to allow the account, counted for every worker
    /// (WeChat allows 60). Raise it only for the emulator.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub sends_per_minute: u32,
    /// Batches claimed and sent at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub window: u32,
    /// Seconds a claimed batch is this worker's alone; a worker that dies
    /// holds its batches this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease: u64,
}

impl SendingArgs {
    /// The engine's options for a worker named `worker`.
    pub fn options(&self, worker: String) -> wxmass_campaign::engine::WorkOptions {
        let mut options = wxmass_campaign::engine::WorkOptions::new(worker);
        options.window = self.window as usize;
        options.lease = std::time::Duration::from_secs(self.lease);
        options.sends_per_minute = Some(self.sends_per_minute);
        options.stop_on_error = false;
        options
    }
}

/// The global account and journal flags that `demo` never reads (it makes
/// its own account and journal), defined here hidden: clap then leaves the
/// globals out of `demo --help`, which lists only what the demo uses.
#[derive(Debug, Args)]
pub struct DemoUnused {
    #[arg(long, hide = true)]
    profile: Option<String>,
    #[arg(long, hide = true)]
    appid: Option<String>,
    #[arg(long, hide = true)]
    secret: Option<String>,
    #[arg(long, hide = true)]
    api_base: Option<String>,
    #[arg(long, hide = true)]
    journal: Option<PathBuf>,
    #[arg(long, hide = true)]
    database: Option<String>,
}

/// The same for `emulator`, which has its own --appid and --secret and
/// prints no JSON.
#[derive(Debug, Args)]
pub struct EmulatorUnused {
    #[arg(long, hide = true)]
    profile: Option<String>,
    #[arg(long, hide = true)]
    api_base: Option<String>,
    #[arg(long, hide = true)]
    journal: Option<PathBuf>,
    #[arg(long, hide = true)]
    database: Option<String>,
    #[arg(long, hide = true)]
    json: bool,
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
    /// Write the profile without first checking, with a token fetch, that
    /// WeChat accepts the AppID and AppSecret.
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// List tags with their follower counts.
    #[command(after_help = "Example:\n  wxmass tags list --json")]
    List,
    /// Create a tag (at most 30 bytes: 10 Chinese characters).
    #[command(after_help = "Example:\n  wxmass tags create 北京")]
    Create {
        /// The new tag's name.
        name: String,
    },
    /// Rename a tag.
    #[command(after_help = "Example:\n  wxmass tags rename 100 上海")]
    Rename {
        /// The tag's id (see `wxmass tags list`).
        id: u32,
        /// Its new name (at most 30 bytes).
        name: String,
    },
    /// Tag followers listed in a file, 50 per request as WeChat takes them.
    #[command(after_help = "Example:\n  wxmass tags add --tag 100 --openids vip.txt")]
    Add {
        /// The tag's id (see `wxmass tags list`).
        #[arg(long, value_name = "ID")]
        tag: u32,
        /// Openids, one per line (`wxmass followers --out` writes one);
        /// every line is checked before the first request.
        #[arg(long, value_name = "FILE")]
        openids: PathBuf,
    },
    /// Remove a tag from followers listed in a file, 50 per request.
    #[command(after_help = "Example:\n  wxmass tags remove --tag 100 --openids left.txt")]
    Remove {
        /// The tag's id (see `wxmass tags list`).
        #[arg(long, value_name = "ID")]
        tag: u32,
        /// Openids, one per line; every line is checked first.
        #[arg(long, value_name = "FILE")]
        openids: PathBuf,
    },
    /// Delete a tag (WeChat refuses above 100,000 followers); asks first.
    #[command(after_help = "Example:\n  wxmass tags delete 100 --yes")]
    Delete {
        /// The tag's id (see `wxmass tags list`).
        id: u32,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
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

impl SendArgs {
    /// Openids per mass/send.
    pub fn batch_size(&self) -> u32 {
        self.batch_size.unwrap_or(10_000)
    }
}

impl ContentArgs {
    /// Refuses flags that do not go with the content given: they would be
    /// ignored, and the user would think they had an effect.
    pub fn check(&self) -> anyhow::Result<()> {
        let article_only = [
            (self.draft, "--draft"),
            (self.theme.is_some(), "--theme"),
            (self.fetch_remote_images, "--fetch-remote-images"),
        ];
        if self.article.is_empty()
            && let Some((_, flag)) = article_only.iter().find(|(given, _)| *given)
        {
            anyhow::bail!("{flag} goes with --article only; remove it");
        }
        if self.video.is_none() {
            for (given, flag) in [
                (self.title.is_some(), "--title"),
                (self.description.is_some(), "--description"),
            ] {
                if given {
                    anyhow::bail!("{flag} goes with --video only; remove it");
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Args)]
// One content flag is required; --title and --description go with --video
// and so are not members of the group.
#[group(skip)]
#[command(group(clap::ArgGroup::new("content").required(true).multiple(false)))]
pub struct ContentArgs {
    /// A text message.
    #[arg(long, group = "content")]
    pub text: Option<String>,
    /// One or more pictures (uploaded as permanent images, reused on rerun).
    #[arg(long, group = "content", num_args = 1.., value_name = "FILE")]
    pub image: Vec<PathBuf>,
    /// A voice message (AMR or MP3, 2 MB, 60 s; uploaded as permanent
    /// material, reused on rerun).
    #[arg(long, group = "content", value_name = "FILE")]
    pub voice: Option<PathBuf>,
    /// A video message (MP4, 10 MB); needs --title.
    #[arg(long, group = "content", requires = "title", value_name = "FILE")]
    pub video: Option<PathBuf>,
    /// The video's title.
    #[arg(long, requires = "video", value_name = "T")]
    pub title: Option<String>,
    /// The video's description.
    #[arg(long, requires = "video", value_name = "D")]
    pub description: Option<String>,
    /// An article: Markdown with front matter (title, cover, ...). Repeat
    /// for several articles in one message, in order.
    #[arg(long, group = "content", value_name = "FILE")]
    pub article: Vec<PathBuf>,
    /// With --article: save a draft (draft/add) and send it, instead of
    /// uploadnews.
    #[arg(long, requires = "article")]
    pub draft: bool,
    /// With --article: colours and fonts from a TOML file (see the README).
    #[arg(long, requires = "article", value_name = "FILE")]
    pub theme: Option<PathBuf>,
    /// With --article: download pictures given as http(s) URLs and upload
    /// them (otherwise they are an error).
    #[arg(long, requires = "article")]
    pub fetch_remote_images: bool,
    /// Media already uploaded; needs --type.
    #[arg(
        long,
        group = "content",
        requires = "media_type",
        value_name = "ID",
        allow_hyphen_values = true
    )]
    pub media_id: Option<String>,
    /// A card id.
    #[arg(long, group = "content", value_name = "ID", allow_hyphen_values = true)]
    pub card: Option<String>,
}

#[derive(Debug, Args)]
#[group(id = "audience", required = true, multiple = false)]
pub struct AudienceArgs {
    /// Every follower.
    #[arg(long, group = "audience")]
    pub all: bool,
    /// Followers with this tag.
    #[arg(long, group = "audience", value_name = "ID")]
    pub tag: Option<u32>,
    /// Openids, one per line (`-` for stdin); sent with mass/send in batches.
    #[arg(long, group = "audience", value_name = "FILE")]
    pub openids: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub content: ContentArgs,
    /// The type of --media-id.
    /// (mpnews: an article from uploadnews or a draft; image, voice; video:
    /// an mpvideo id from uploadvideo.)
    #[arg(long = "type", id = "media_type", value_name = "TYPE", value_parser = ["mpnews", "image", "voice", "video", "mpvideo"])]
    pub media_type: Option<String>,
    #[command(flatten)]
    pub audience: AudienceArgs,
    /// With --openids: openids per mass/send (2 to 10,000; default 10,000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub batch_size: Option<u32>,
    /// The campaign's name (default: derived from content and audience, so an
    /// identical rerun resumes it).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// For mpnews: send even if judged a reprint whose original allows it.
    #[arg(long)]
    pub ignore_reprint: bool,
    /// Plan and print; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before sending to everyone or to more than 1,000 followers.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Mass sends a minute to allow the account (WeChat allows 60; counted
    /// for every worker with --database). Raise it only for the emulator.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub sends_per_minute: Option<u32>,
    /// Return once submitted, without waiting for the jobs to finish.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// The account's templates, with the keys `notify --data` fills.
    List,
    /// Add a template from WeChat's library by its short id (the account's
    /// industries must list it), showing the keywords named, in order.
    Add {
        /// The library template's short id (e.g. 47123).
        short_id: String,
        /// A keyword of the library template to show; repeat, in order.
        #[arg(long, value_name = "NAME", required = true)]
        keyword: Vec<String>,
    },
    /// Delete a template.
    Delete {
        /// The template's id (`wxmass templates list`).
        #[arg(allow_hyphen_values = true)]
        template_id: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show the account's two industries, or set them (WeChat's industry
    /// codes: 1 IT科技/互联网|电子商务, 2 IT科技/IT软件与服务, ...; a
    /// change deletes the templates of the old ones, once a month).
    Industry {
        /// The primary industry's code.
        #[arg(requires = "secondary")]
        primary: Option<u32>,
        /// The secondary industry's code.
        secondary: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// A template message: the account's template id (`wxmass templates`
    /// lists them), with each keyword's value as --data.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub template: Option<String>,
    /// A subscription notice: its template (priTmplId), with --data. Each
    /// follower's consent allows one.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "template",
        allow_hyphen_values = true
    )]
    pub subscription: Option<String>,
    /// A keyword's value, KEY=VALUE (thing1=钢笔); repeat for each keyword.
    /// Each is checked against its type's rule before anything is sent.
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    /// A web page the notice opens.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A mini program page the notice opens, APPID:PAGEPATH.
    #[arg(long, value_name = "APPID:PAGE")]
    pub miniprogram: Option<String>,
    /// A customer-service text: it reaches only followers whose window is
    /// open (they wrote, clicked or scanned lately).
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// The channel: template, subscribe, custom, or auto (customer
    /// service, then a template message where that is refused). Default:
    /// the one whose message is given; auto for --text with --template.
    #[arg(long, value_name = "CHANNEL", value_parser = ["template", "subscribe", "custom", "auto"])]
    pub via: Option<String>,
    #[command(flatten)]
    pub audience: AudienceArgs,
    /// The campaign's name (default: derived from notice and audience, so
    /// an identical rerun resumes it).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Plan and print the recipients, the quota WeChat reports and the
    /// time its rate will take; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before sending to everyone or to more than 1,000 followers.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Send again the recipients reported unknown: some of them may have
    /// the notice already and will have it twice.
    #[arg(long)]
    pub resend_unknown: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub action: Option<ServerAction>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR")]
    pub listen: String,
    /// The server key file (made, 0600, with a fresh key if missing);
    /// WXMASS_SERVER_KEY, when set, is used instead.
    #[arg(long, env = "WXMASS_SERVER_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Try it with no account and no network: a built-in emulator with
    /// 2,000 followers, a throwaway store, an admin whose API token is
    /// printed, and the emulator's account added (pushes included).
    #[arg(long)]
    pub demo: bool,
    /// For tests and demos: let an admin move the time campaigns are
    /// scheduled by forward (`POST /api/v1/clock`), to run tomorrow's
    /// campaign now. Pushes and leases keep the machine's time. (On with
    /// --demo, where it moves the emulator's clock too.)
    #[arg(long)]
    pub movable_clock: bool,
    /// The address of a reverse proxy in front of this server (repeat for
    /// several): only from these is X-Forwarded-For believed, to limit
    /// failed sign-ins by the client's address rather than the proxy's.
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// The two-person rule: nobody approves a campaign they made; another
    /// approver (or admin) does.
    #[arg(long)]
    pub require_second_approver: bool,
    /// Megabytes saved openid lists and uploaded files may take together in
    /// the store; an upload past it is refused until some are deleted.
    #[arg(
        long,
        default_value_t = 2048,
        value_name = "MB",
        help_heading = "Limits"
    )]
    pub max_storage_mb: u64,
    /// Run as a WeChat third-party platform (开放平台) with this component
    /// AppID as well: accounts authorise it with a scan, and it sends for
    /// them with no AppSecret. At WeChat, set the authorization event URL to
    /// https://HOST/platform/events and the message URL to
    /// https://HOST/platform/callback/$APPID$ (README: "A third-party
    /// platform"). Needs --platform-token, --platform-aes-key, and the
    /// component secret in WXMASS_PLATFORM_SECRET or --platform-secret-file.
    #[arg(
        long,
        value_name = "COMPONENT_APPID",
        help_heading = "Third-party platform"
    )]
    pub platform: Option<String>,
    /// The platform's message token (消息校验Token), 3 to 32 letters or
    /// digits (prefer WXMASS_PLATFORM_TOKEN: command lines show in `ps`).
    #[arg(
        long,
        env = "WXMASS_PLATFORM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        help_heading = "Third-party platform"
    )]
    pub platform_token: Option<String>,
    /// The platform's EncodingAESKey (消息加解密Key), 43 characters (prefer
    /// WXMASS_PLATFORM_AES_KEY).
    #[arg(
        long,
        env = "WXMASS_PLATFORM_AES_KEY",
        hide_env_values = true,
        value_name = "KEY",
        help_heading = "Third-party platform"
    )]
    pub platform_aes_key: Option<String>,
    /// A file (mode 0600) holding the component secret (AppSecret of the
    /// platform); WXMASS_PLATFORM_SECRET, when set, is used instead.
    #[arg(
        long,
        env = "WXMASS_PLATFORM_SECRET_FILE",
        value_name = "PATH",
        help_heading = "Third-party platform"
    )]
    pub platform_secret_file: Option<PathBuf>,
    #[command(flatten)]
    pub sending: SendingArgs,
    /// Seconds from a request's first byte to the end of its headers.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub header_timeout: f64,
    /// Seconds from the end of a request's headers to the end of its body
    /// (an upload on a slow link needs room; a trickle cannot hold a slot).
    #[arg(long, default_value_t = 60.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub body_timeout: f64,
    /// Seconds a connection may stay open with no request on it.
    #[arg(long, default_value_t = 60.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub idle_timeout: f64,
    /// Open connections at most; more are closed as soon as they are accepted.
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = "Limits")]
    pub max_connections: u32,
    /// Open connections from one client address at most; more are closed as
    /// soon as they are accepted. Behind a reverse proxy every client has the
    /// proxy's address: raise it to --max-connections there.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = "Limits")]
    pub max_connections_per_address: u32,
}

#[derive(Debug, Subcommand)]
pub enum ServerAction {
    /// Make the first user (an admin) and print an admin API token, once.
    /// The password comes from WXMASS_ADMIN_PASSWORD, else from stdin.
    InitAdmin {
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
    /// For an admin locked out of the web: set a user's password (from
    /// WXMASS_ADMIN_PASSWORD, else stdin), enable it if it was disabled, and
    /// end its tokens and sessions. Run on a machine with the store.
    ResetPassword {
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// The callback token from the account's server settings (prefer
    /// WXMASS_CALLBACK_TOKEN: command lines show in `ps` and shell history).
    #[arg(
        long,
        env = "WXMASS_CALLBACK_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: String,
    /// The EncodingAESKey (43 characters): only encrypted pushes (safe or
    /// compatible mode) are then taken (prefer WXMASS_CALLBACK_AES_KEY:
    /// command lines show in `ps`).
    #[arg(
        long,
        env = "WXMASS_CALLBACK_AES_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub aes_key: Option<String>,
    /// The EncodingAESKey in force before the last change, still taken while
    /// WeChat switches over (prefer WXMASS_CALLBACK_PREVIOUS_AES_KEY).
    #[arg(
        long,
        env = "WXMASS_CALLBACK_PREVIOUS_AES_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub previous_aes_key: Option<String>,
    /// Take plaintext pushes even with --aes-key. Unsafe: a plaintext
    /// signature does not cover the body, so anyone who has seen one signed
    /// URL can post a forged report. Only while switching modes.
    #[arg(long)]
    pub allow_plaintext: bool,
    /// Seconds a request's timestamp may be from now; each signed query is
    /// remembered (in the journal) until its timestamp is that far behind.
    #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub timestamp_window: u32,
    /// Seconds from a request's first byte to the end of its headers.
    #[arg(long, default_value_t = 5.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub header_timeout: f64,
    /// Seconds to receive a request's body (WeChat waits 5 s for the answer).
    #[arg(long, default_value_t = 5.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub body_timeout: f64,
    /// Seconds a connection may stay open with no request on it.
    #[arg(long, default_value_t = 15.0, value_name = "SECS", value_parser = positive_seconds, help_heading = "Limits")]
    pub idle_timeout: f64,
    /// Open connections at most; more are closed as soon as they are accepted.
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = "Limits")]
    pub max_connections: u32,
    /// Open connections from one client address at most; more are closed as
    /// soon as they are accepted (WeChat pushes from many addresses). Behind
    /// a reverse proxy every client has the proxy's address: raise it to
    /// --max-connections there.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = "Limits")]
    pub max_connections_per_address: u32,
}

/// A number of seconds above zero and at most a day.
fn positive_seconds(s: &str) -> Result<f64, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if secs > 0.0 && secs <= 86_400.0 {
        Ok(secs)
    } else {
        Err(format!(
            "{s} is out of range: give more than 0 and at most 86400 seconds"
        ))
    }
}

#[derive(Debug, Args)]
#[group(id = "preview_to", required = true, multiple = false)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub content: ContentArgs,
    /// The type of --media-id.
    /// (mpnews: an article from uploadnews or a draft; image, voice; video:
    /// an mpvideo id from uploadvideo.)
    #[arg(long = "type", id = "media_type", value_name = "TYPE", value_parser = ["mpnews", "image", "voice", "video", "mpvideo"])]
    pub media_type: Option<String>,
    /// A follower's openid.
    #[arg(long, group = "preview_to", value_name = "OPENID")]
    pub to: Option<String>,
    /// A WeChat ID (100 previews a day).
    #[arg(long, group = "preview_to", value_name = "ID")]
    pub wxname: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Upload a file and print its media id.
    #[command(
        after_help = "Examples:\n  wxmass media upload cover.jpg --type thumb\n  wxmass media upload a.png --type image --permanent"
    )]
    Upload {
        /// The file to upload.
        file: PathBuf,
        /// image, voice, video or thumb.
        #[arg(long = "type", value_parser = ["image", "voice", "video", "thumb"])]
        kind: String,
        /// Permanent material (needed for mass image and voice messages).
        #[arg(long)]
        permanent: bool,
        /// Title, for permanent videos.
        #[arg(long)]
        title: Option<String>,
        /// Description, for permanent videos (WeChat's "introduction"; the
        /// same flag as `send --video --description`).
        #[arg(long, visible_alias = "introduction")]
        description: Option<String>,
    },
    /// List permanent material of one kind, newest first.
    #[command(after_help = "Example:\n  wxmass media list --type image --json")]
    List {
        /// image, voice or video.
        #[arg(long = "type", value_parser = ["image", "voice", "video"])]
        kind: String,
    },
    /// Delete permanent material; asks first (messages already sent keep it).
    #[command(after_help = "Example:\n  wxmass media delete MEDIA_ID --yes")]
    Delete {
        /// The material's media id (see `wxmass media list`).
        // WeChat's ids are base64url: one may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        media_id: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DraftsCommand {
    /// List the draft box, newest first.
    #[command(after_help = "Example:\n  wxmass drafts list --json")]
    List,
    /// Delete a draft; asks first (what was sent from it stays).
    #[command(after_help = "Example:\n  wxmass drafts delete MEDIA_ID --yes")]
    Delete {
        /// The draft's media id (see `wxmass drafts list`).
        // WeChat's ids are base64url: one may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        media_id: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArticleCommand {
    /// Write a local HTML page showing the article as a follower sees it
    /// on a phone (cover, title, body, references), pictures from local files.
    #[command(
        after_help = "Example:\n  wxmass article render post.md --out post.html\n\nAn article file is Markdown with front matter:\n  ---\n  title: Our autumn news\n  author: The team\n  cover: cover.jpg\n  digest: What changed this season\n  source_url: https://example.com/autumn\n  ---\n  # Hello\n  ![A picture](pictures/one.png)"
    )]
    Render {
        /// The Markdown file.
        file: PathBuf,
        /// The page to write.
        #[arg(long, value_name = "PAGE")]
        out: PathBuf,
        /// Colours and fonts from a TOML file.
        #[arg(long, value_name = "FILE")]
        theme: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MassCommand {
    /// A job's status (SENDING, SEND_SUCCESS, SEND_FAIL, DELETE).
    #[command(after_help = "Example:\n  wxmass mass get 1000000001")]
    Get {
        /// The job's msg_id (see `wxmass status`).
        msg_id: i64,
    },
    /// Delete a sent article or video job from followers' chats; asks first.
    #[command(after_help = "Example:\n  wxmass mass delete 1000000001 --article-idx 2 --yes")]
    Delete {
        /// The job's msg_id (see `wxmass status`).
        msg_id: i64,
        /// 0: the whole job; N: only its N-th article (1-based).
        #[arg(long, default_value_t = 0)]
        article_idx: u32,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpeedAction {
    /// Show the speed level.
    Get,
    /// Set the speed level.
    Set {
        /// 0 (fastest: 800,000 messages a minute), 1 (600,000), 2 (450,000), 3 (300,000), 4 (slowest: 100,000).
        #[arg(value_parser = clap::value_parser!(u8).range(0..=4), value_name = "0..4")]
        level: u8,
    },
}

/// `wxmass stats`: a campaign's figures, or `account`'s.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct StatsArgs {
    /// The campaign (`wxmass campaigns` lists them).
    #[arg(required = true)]
    pub campaign: Option<String>,
    #[command(flatten)]
    pub output: StatsOutput,
    #[command(subcommand)]
    pub account: Option<StatsCommand>,
}

/// How `wxmass stats` prints, and as of when.
#[derive(Debug, Args)]
pub struct StatsOutput {
    /// Comma-separated values, for a spreadsheet.
    #[arg(long)]
    pub csv: bool,
    /// WeChat's date, YYYY-MM-DD, when it is not this machine's (an
    /// emulator whose clock was moved): datacube has figures up to the
    /// day before.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// The account's followers (at the end of each day, new, left) and reads, day by day.
    #[command(
        after_help = "Example:\n  wxmass stats account --from 2026-11-01 --to 2026-11-30 --csv > november.csv\n\nFrom getusercumulate, getusersummary and getuserread, walked in the spans WeChat allows\n(7, 7 and 3 days a call). Days whose reads, shares and favourites add up to under 3 have\nno row at WeChat and show 0."
    )]
    Account {
        /// The first day, YYYY-MM-DD (default: a week before --to).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// The last day, YYYY-MM-DD (default: yesterday, the last WeChat has).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[command(flatten)]
        output: StatsOutput,
    },
}

/// `wxmass publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// An article: Markdown with front matter (title, cover, ...). Repeat
    /// for several, in order (at most 8).
    #[arg(long, required = true, value_name = "FILE")]
    pub article: Vec<PathBuf>,
    /// Colours and fonts from a TOML file (see the README).
    #[arg(long, value_name = "FILE")]
    pub theme: Option<PathBuf>,
    /// Download pictures given as http(s) URLs and upload them (otherwise
    /// they are an error).
    #[arg(long)]
    pub fetch_remote_images: bool,
    /// A name for it in the journal (default: derived from the draft).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Return once submitted, without waiting for the end.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for the end (WeChat's checks can take minutes).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Publish without asking.
    #[arg(long)]
    pub yes: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of the whole tree: no flag defined twice where
    /// it would clash (the top-level `--token` of `--server` beside
    /// `serve --token`, WeChat's callback token).
    #[test]
    fn the_command_tree_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let server = Cli::try_parse_from([
            "wxmass",
            "--server",
            "http://h",
            "--token",
            "wxm_a",
            "campaigns",
        ])
        .expect("--server --token campaigns");
        assert_eq!(server.server_token.as_deref(), Some("wxm_a"));
        let serve =
            Cli::try_parse_from(["wxmass", "serve", "--token", "cb"]).expect("serve --token");
        assert!(serve.server_token.is_none() || std::env::var_os("WXMASS_SERVER_TOKEN").is_some());
    }

    /// WeChat's media and template ids are base64url and may begin with
    /// `-`: they are still ids, not flags (random ids in tests found both).
    #[test]
    fn wechat_ids_may_begin_with_a_hyphen() {
        for args in [
            &["wxmass", "media", "delete", "-Ie0iOWRT", "--yes"][..],
            &["wxmass", "drafts", "delete", "-abc", "--yes"],
            &[
                "wxmass",
                "send",
                "--media-id",
                "-abc",
                "--type",
                "image",
                "--all",
            ],
            &[
                "wxmass",
                "notify",
                "--template",
                "-xQ1",
                "--data",
                "a=b",
                "--all",
            ],
            &["wxmass", "notify", "--subscription", "-xQ1", "--all"],
            &["wxmass", "templates", "delete", "-xQ1", "--yes"],
        ] {
            let cli = Cli::try_parse_from(args);
            assert!(cli.is_ok(), "{args:?}: {:?}", cli.err());
        }
        match Cli::try_parse_from(["wxmass", "media", "delete", "-Ie0iOWRT", "--yes"]) {
            Ok(Cli {
                command: Command::Media(MediaCommand::Delete { media_id, yes }),
                ..
            }) => assert_eq!((media_id.as_str(), yes), ("-Ie0iOWRT", true)),
            other => panic!("{other:?}"),
        }
    }
}
