//! `wxmass followers`: count, list or save followers, page by page, so
//! memory stays flat however many there are.

use std::io::Write as _;
use std::pin::pin;

use anyhow::{Context, Result};
use futures_util::{Stream, TryStreamExt};
use serde_json::json;

use crate::cli::FollowersArgs;
use crate::config::Settings;

pub async fn run(settings: &Settings, args: &FollowersArgs, json: bool) -> Result<()> {
    let client = settings.client()?;
    // Without a tag, `user/get` reports the total: no need to page to count.
    if args.count && args.tag.is_none() && args.out.is_none() {
        let total = client
            .users()
            .followers_page(None)
            .await?
            .total
            .unwrap_or(0);
        super::print(json, &json!({"count": total}), || total.to_string());
        return Ok(());
    }
    let users = client.users();
    let tags = client.tags();
    let pages: std::pin::Pin<Box<dyn Stream<Item = wxmass_api::Result<Vec<String>>> + '_>> =
        match args.tag {
            Some(tag) => Box::pin(tags.members(tag)),
            None => Box::pin(users.followers()),
        };
    let mut pages = pin!(pages);
    let mut sink: Box<dyn std::io::Write> = match (&args.out, args.count) {
        (Some(path), _) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        (None, true) => Box::new(std::io::sink()),
        (None, false) if json => Box::new(std::io::sink()),
        (None, false) => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut count = 0u64;
    let mut progress = args
        .out
        .as_ref()
        .map(|_| crate::progress::Progress::new("followers", 0));
    let mut listed = Vec::new();
    while let Some(page) = pages.try_next().await? {
        count += page.len() as u64;
        if json && args.out.is_none() && !args.count {
            listed.extend(page.iter().cloned());
        }
        for openid in &page {
            writeln!(sink, "{openid}").with_context(|| destination(args))?;
        }
        if let Some(progress) = &mut progress {
            progress.inc(page.len() as u64);
        }
    }
    if let Some(progress) = progress {
        progress.finish();
    }
    sink.flush().with_context(|| destination(args))?;
    drop(sink);
    match (&args.out, args.count, json) {
        (Some(path), _, _) => super::print(json, &json!({"count": count, "out": path}), || {
            format!("wrote {count} openids to {}", path.display())
        }),
        (None, true, _) => super::print(json, &json!({"count": count}), || count.to_string()),
        (None, false, true) => super::emit(json!({"count": count, "openids": listed})),
        (None, false, false) => {}
    }
    Ok(())
}

/// Where the openids go, for an error about writing them.
fn destination(args: &FollowersArgs) -> String {
    match &args.out {
        Some(path) => format!("cannot write the openids to {}", path.display()),
        None => "cannot write the openids to standard output".to_owned(),
    }
}
