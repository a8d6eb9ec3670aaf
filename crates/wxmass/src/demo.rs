//! `wxmass demo`: a whole campaign on the built-in emulator, with `serve`
//! receiving its reports, and how the article was read two days on (the
//! emulator's clock moved), all on loopback in this process. No account, no
//! network, and nothing left behind.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use wxmass_api::Secret;
use wxmass_api::api::datacube::Date;
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};
use wxmass_emulator::{CallbackMode, CallbackTarget, EmulatorConfig};

use crate::cli::{AudienceArgs, ContentArgs, SendArgs};
use crate::config::{Paths, Settings};

/// The demo's article, its cover and its inline picture (shipped in
/// `crates/wxmass/assets`).
pub const ARTICLE: &str = include_str!("../assets/demo-article.md");
pub const COVER: &[u8] = include_bytes!("../assets/demo-cover.png");
pub const CHART: &[u8] = include_bytes!("../assets/demo-chart.png");

const FOLLOWERS: u32 = 2_000;

fn send_args(
    content: ContentArgs,
    audience: AudienceArgs,
    batch_size: Option<u32>,
    campaign: &str,
) -> SendArgs {
    SendArgs {
        content,
        media_type: None,
        audience,
        batch_size,
        campaign: Some(campaign.to_owned()),
        ignore_reprint: false,
        dry_run: false,
        yes: true,
        no_wait: false,
        sends_per_minute: None,
    }
}

fn text(t: &str) -> ContentArgs {
    ContentArgs {
        text: Some(t.to_owned()),
        ..ContentArgs::default()
    }
}

fn tag(id: u32) -> AudienceArgs {
    AudienceArgs {
        all: false,
        tag: Some(id),
        openids: None,
    }
}

pub async fn run(json: bool) -> Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "wxmass-demo-{}-{}",
        std::process::id(),
        wxmass_campaign::beijing::now()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = run_in(&dir, json).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(dir: &Path, json: bool) -> Result<()> {
    let journal_path = dir.join("journal.db");
    // The receiver, in safe mode with a fresh key.
    let key = wxmass_callback::crypto::AesKey::from_bytes(rand_key()).to_encoding_aes_key();
    let token = "wxmassdemo";
    let receiver_config = wxmass_callback::CallbackConfig::builder(token, DEFAULT_APPID)
        .aes_key(key.clone())
        .build()?;
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/", receiver.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serve = tokio::spawn(crate::serve::serve(
        receiver_config,
        wxmass_callback::ServeLimits::default(),
        receiver,
        wxmass_campaign::store::open_sqlite(&journal_path)?,
        async {
            let _ = stop_rx.await;
        },
    ));

    // The emulator, pushing to it.
    let wechat = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let emulator = wxmass_emulator::start(
        EmulatorConfig {
            followers: FOLLOWERS,
            job_delay: Duration::from_millis(300),
            callback: Some(CallbackTarget {
                url: callback_url.clone(),
                token: token.into(),
                aes_key: Some(key),
                mode: CallbackMode::Safe,
            }),
            ..EmulatorConfig::default()
        },
        wechat,
    )?;
    eprintln!(
        "emulator (WeChat) at {}, receiver at {callback_url}",
        emulator.base_url()
    );

    let settings = Settings {
        profile: "demo".into(),
        appid: DEFAULT_APPID.into(),
        secret: Some(Secret::new(DEFAULT_SECRET)),
        api_base: Some(emulator.base_url()),
        account_type: None,
        paths: Paths {
            config: dir.join("config.toml"),
            data: dir.to_path_buf(),
        },
    };
    let client = settings.client()?;
    let vip = client.tags().create("demo-vip").await?;
    let first_page = client.users().followers_page(None).await?.openids;
    client.tags().tag_users(vip.id, &first_page[..600]).await?;
    eprintln!(
        "{FOLLOWERS} followers; tag {} ({}) on 600 of them",
        vip.id, vip.name
    );

    let article = dir.join("demo-article.md");
    std::fs::write(&article, ARTICLE)?;
    std::fs::write(dir.join("demo-cover.png"), COVER)?;
    let picture = dir.join("demo-chart.png");
    std::fs::write(&picture, CHART)?;
    let list = dir.join("openids.txt");
    std::fs::write(&list, first_page[600..1_100].join("\n"))?;

    let campaigns = [
        send_args(
            ContentArgs {
                article: vec![article],
                ..ContentArgs::default()
            },
            tag(vip.id),
            None,
            "demo-article",
        ),
        send_args(
            ContentArgs {
                image: vec![picture],
                ..ContentArgs::default()
            },
            tag(vip.id),
            None,
            "demo-image",
        ),
        send_args(text("Hello from wxmass"), tag(vip.id), None, "demo-text"),
        send_args(
            text("Hello, list"),
            AudienceArgs {
                all: false,
                tag: None,
                openids: Some(list),
            },
            Some(200),
            "demo-list",
        ),
    ];
    let journal = wxmass_campaign::store::open_sqlite(&journal_path)?;
    for args in &campaigns {
        eprintln!("== campaign {}", args.campaign.as_deref().unwrap_or(""));
        // The status report comes at the end; keep stdout for it.
        crate::campaign::send(&settings, &*journal, args, None).await?;
    }

    // Wait for every job's report.
    let jobs = campaigns.len() as i64 + 2; // the list goes in three batches
    for _ in 0..100 {
        if journal.push_count().await? >= jobs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{} of {jobs} job reports received",
        journal.push_count().await?
    );
    let _ = stop_tx.send(());
    serve.await.context("receiver task")??;

    // Two days on, after 08:00 Beijing time, WeChat has the article's
    // first day of reads (the emulator's seeded followers read it).
    let now = emulator.emulator.clock.now_ms() / 1000;
    let sent = Date::of_unix(now);
    emulator
        .emulator
        .clock
        .advance(sent.plus(2).unix_at(9) - now);
    let today = sent.plus(2).to_string();

    if json {
        let mut all = Vec::new();
        for args in &campaigns {
            let id = args.campaign.clone().unwrap_or_default();
            all.push(serde_json::json!({"campaign": journal.planned_campaign(&id).await?, "batches": journal.batches(&id).await?}));
        }
        crate::commands::emit(serde_json::Value::Array(all));
    } else {
        for args in &campaigns {
            crate::campaign_view::print_campaign(
                &*journal,
                args.campaign.as_deref().unwrap_or(""),
                false,
            )
            .await?;
            crate::commands::emit("");
        }
        eprintln!("== two days later: how the article was read");
        crate::commands::stats::stats(
            &client,
            &*journal,
            "demo-article",
            Some(&today),
            false,
            false,
        )
        .await?;
    }
    emulator.shutdown().await;
    Ok(())
}

fn rand_key() -> [u8; 32] {
    use rand::RngExt as _;
    rand::rng().random()
}
