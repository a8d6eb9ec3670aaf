//! `wxmass`: the command line. A thin layer: parse, resolve settings, run
//! one command, and turn errors into advice.

mod advice;
mod article;
mod campaign;
mod campaign_view;
mod cli;
mod commands;
mod config;
mod demo;
mod demo_history;
mod notify;
mod open_files;
mod output;
mod progress;
mod serve;
mod server;
mod server_client;
mod stop;
mod worker;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::config::{Overrides, Settings};
use wxmass_campaign::notices::RecipientState;

#[tokio::main]
async fn main() -> ExitCode {
    wxmass_emulator::init_logging();
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`| head`): nothing left to say.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        // Ctrl-C: where it stopped and how to go on; 130 as shells expect.
        Err(error) if error.downcast_ref::<campaign::Interrupted>().is_some() => {
            eprintln!("{error}");
            ExitCode::from(130)
        }
        Err(error) => {
            let advice = advice::advice(&error);
            eprintln!("error: {error:#}");
            if let Some(advice) = &advice {
                eprintln!("  what to do: {advice}");
            }
            if cli.json {
                // Scripts read one JSON document on stdout, failure included.
                let errcode = error
                    .downcast_ref::<wxmass_api::Error>()
                    .and_then(wxmass_api::Error::errcode)
                    .map(|c| c.code());
                let value = serde_json::json!({
                    "error": format!("{error:#}"),
                    "errcode": errcode,
                    "what_to_do": advice,
                });
                commands::emit(value);
            }
            ExitCode::FAILURE
        }
    }
}

/// The account flags, to merge with the profile.
fn overrides(cli: &Cli) -> Overrides {
    Overrides {
        profile: cli.account.profile.clone(),
        appid: cli.account.appid.clone(),
        secret: cli.account.secret.clone(),
        api_base: cli.account.api_base.clone(),
    }
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    if let Some(server) = &cli.server {
        return on_server(cli, server).await;
    }
    let settings = || Settings::resolve(&overrides(cli));
    match &cli.command {
        Command::Init(args) => commands::init::run(&cli.account, args, cli.json).await,
        Command::Token { refresh } => commands::token::run(&settings()?, *refresh, cli.json).await,
        Command::Tags(command) => commands::tags::run(&settings()?, command, cli.json).await,
        Command::Templates(command) => {
            commands::templates::run(&settings()?, command, cli.json).await
        }
        Command::Followers(args) => commands::followers::run(&settings()?, args, cli.json).await,
        Command::Send(args) => {
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            campaign::send(&settings, &*journal, args, Some(cli.json)).await
        }
        Command::Worker(args) => {
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            let tokens = config::token_store(cli.database.as_deref(), &settings.paths).await?;
            worker::run(&settings.client_with(tokens)?, &settings, &*journal, args).await
        }
        Command::Publish(args) => {
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            commands::publish::publish(&settings, &*journal, args, cli.json).await
        }
        Command::Preview(args) => {
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            commands::api::preview(&settings, &*journal, args, cli.json).await
        }
        Command::Media(command) => commands::api::media(&settings()?, command, cli.json).await,
        Command::Drafts(command) => commands::api::drafts(&settings()?, command, cli.json).await,
        Command::Article(cli::ArticleCommand::Render { file, out, theme }) => {
            article::render_page(file, out, theme.as_deref(), cli.json)
        }
        Command::Mass(command) => {
            let settings = settings()?;
            // The journal notes a deleted job (only delete opens it).
            let journal = match command {
                cli::MassCommand::Delete { .. } => Some(open_journal(cli, &settings.paths).await?),
                _ => None,
            };
            commands::api::mass(&settings, journal.as_deref(), command, cli.json).await
        }
        Command::Speed { action } => {
            commands::api::speed(&settings()?, action.as_ref(), cli.json).await
        }
        Command::Notify(args) => {
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            notify::notify(&settings, &*journal, args, cli.json).await
        }
        Command::Status {
            campaign,
            unknown,
            failed,
            refresh,
        } => {
            let journal = open_journal(cli, &config::Paths::from_env()?).await?;
            let listed = match (failed, unknown) {
                (true, _) => Some(RecipientState::Failed),
                (_, true) => Some(RecipientState::Unknown),
                _ => None,
            };
            if let (Some(state), Some(id)) = (listed, campaign) {
                campaign_view::print_recipients(&*journal, id, state).await
            } else if *unknown {
                commands::status::stray_reports(&*journal, cli.json).await
            } else {
                let client = match refresh {
                    true => Some(settings()?.client()?),
                    false => None,
                };
                commands::status::status(&*journal, campaign.as_deref(), client.as_ref(), cli.json)
                    .await
            }
        }
        Command::Comments {
            campaign,
            article,
            open,
            close,
            reply,
            elect,
            delete,
        } => {
            use commands::comments::Action;
            let action = match (open, close, reply, elect, delete) {
                (true, ..) => Action::Open,
                (_, true, ..) => Action::Close,
                (_, _, Some(reply), ..) => {
                    let (id, text) = match reply.as_slice() {
                        [id, text] => (id, text),
                        _ => anyhow::bail!("--reply takes a comment ID and the TEXT"),
                    };
                    let id = id.parse().map_err(|_| {
                        anyhow::anyhow!(
                            "--reply {id:?}: the comment ID is a number (the list shows them)"
                        )
                    })?;
                    Action::Reply(id, text.clone())
                }
                (_, _, _, Some(id), _) => Action::Elect(*id),
                (_, _, _, _, Some(id)) => Action::Delete(*id),
                _ => Action::List,
            };
            let settings = settings()?;
            let journal = open_journal(cli, &settings.paths).await?;
            let client = settings.client()?;
            commands::comments::comments(&client, &*journal, campaign, *article, action, cli.json)
                .await
        }
        Command::Stats(args) => {
            let settings = settings()?;
            let client = settings.client()?;
            match &args.account {
                Some(cli::StatsCommand::Account { from, to, output }) => {
                    commands::stats::account(
                        &client,
                        from.as_deref(),
                        to.as_deref(),
                        output.today.as_deref(),
                        output.csv,
                        cli.json,
                    )
                    .await
                }
                None => {
                    let journal = open_journal(cli, &settings.paths).await?;
                    commands::stats::stats(
                        &client,
                        &*journal,
                        args.campaign.as_deref().unwrap_or_default(),
                        args.output.today.as_deref(),
                        args.output.csv,
                        cli.json,
                    )
                    .await
                }
            }
        }
        Command::Campaigns => {
            let journal = open_journal(cli, &config::Paths::from_env()?).await?;
            commands::status::campaigns(&*journal, cli.json).await
        }
        Command::Serve(args) => {
            // The internet-facing process holds no AppSecret: it calls no API.
            let settings = Settings::resolve_without_secret(&overrides(cli))?;
            let config = serve::config(args, &settings.appid)?;
            let mut limits = serve::limits(args);
            limits.max_connections = open_files::room_for(args.max_connections);
            if config.accepts_plaintext() {
                if config.is_encrypted() {
                    eprintln!(
                        "warning: --allow-plaintext: plaintext pushes are taken, and their signature does not cover the body; anyone who has seen one signed URL can post a forged report"
                    );
                } else {
                    eprintln!(
                        "warning: no EncodingAESKey: pushes are taken in plaintext, whose signature does not cover the body; set --aes-key (safe mode) before facing the internet"
                    );
                }
            }
            let journal = open_journal(cli, &settings.paths).await?;
            let listener = wxmass_callback::bind(&args.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
            println!(
                "wxmass serve listening on http://{}",
                listener.local_addr()?
            );
            serve::serve(config, limits, listener, journal, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
        Command::Server(args) if args.demo => server::demo(args).await,
        Command::Server(args) => {
            let paths = config::Paths::from_env()?;
            let journal = open_journal(cli, &paths).await?;
            match &args.action {
                Some(cli::ServerAction::InitAdmin { name }) => {
                    server::init_admin(&*journal, name).await
                }
                Some(cli::ServerAction::ResetPassword { name }) => {
                    server::reset_password(&*journal, name).await
                }
                None => {
                    let wechat = cli.account.api_base.clone();
                    let tokens = config::token_store(cli.database.as_deref(), &paths).await?;
                    server::run(args, journal, &paths.data, wechat, tokens).await
                }
            }
        }
        Command::Demo { .. } => demo::run(cli.json).await,
        Command::Emulator { args, .. } => {
            wxmass_emulator::run(args).await.map_err(anyhow::Error::msg)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "wxmass", &mut script);
            commands::emit_bytes(&script);
            Ok(())
        }
    }
}

/// `wxmass --server URL ...`: the commands that read a server's campaigns
/// instead of the local journal.
async fn on_server(cli: &Cli, server: &str) -> anyhow::Result<()> {
    let client =
        server_client::ServerClient::new(server, cli.server_token.as_deref().unwrap_or(""))?;
    match &cli.command {
        Command::Campaigns => commands::remote::campaigns(&client, cli.json).await,
        Command::Status {
            campaign,
            unknown: false,
            failed: false,
            refresh: false,
        } => commands::remote::status(&client, campaign.as_deref(), cli.json).await,
        Command::Status { .. } => anyhow::bail!(
            "--server: `status` shows a server's campaign as the server knows it (its own mass/get follow-up and the pushes it records); --refresh and --unknown are for a local journal"
        ),
        _ => anyhow::bail!(
            "--server works with `campaigns` and `status`; the other commands act on this machine's journal and account (leave out --server and WXMASS_SERVER_URL). A server's campaigns are written, approved and sent through its API (/api/v1/openapi.json) or its dashboard"
        ),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The journal: PostgreSQL with `--database postgres://...` (or
/// WXMASS_DATABASE_URL), the SQLite file of `--database sqlite:PATH`, else
/// the SQLite file of [`journal_path`].
async fn open_journal(
    cli: &Cli,
    paths: &config::Paths,
) -> anyhow::Result<std::sync::Arc<dyn wxmass_campaign::Store>> {
    Ok(match &cli.database {
        Some(url) => wxmass_campaign::store::open(url, cli.database_connections.into()).await?,
        None => wxmass_campaign::store::open_sqlite(&journal_path(cli, paths))?,
    })
}

/// `--journal`, else `journal.db` in the data directory.
fn journal_path(cli: &Cli, paths: &config::Paths) -> std::path::PathBuf {
    cli.journal
        .clone()
        .unwrap_or_else(|| paths.data.join("journal.db"))
}
