//! A journal written by the release before this crate (schema 1, committed
//! in tests/data) opens and is upgraded in place: every campaign, batch,
//! openid, report and upload is still there, in today's types.

use wxmass_campaign::store::migrations::LATEST as SCHEMA_VERSION;
use wxmass_campaign::store::{SqliteStore, prelude::*};
use wxmass_campaign::{Audience, BatchState, Content, MediaType};

fn old_journal() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("journal.db");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/journal-v1.db"),
        &path,
    )
    .expect("copy the fixture");
    (dir, path)
}

#[tokio::test]
async fn a_schema_1_journal_is_upgraded_in_place() {
    let (_dir, path) = old_journal();
    let journal = SqliteStore::open(&path).expect("upgraded");
    assert_eq!(journal.version().expect("version"), SCHEMA_VERSION);
    let ids: Vec<String> = journal
        .planned_campaigns()
        .await
        .expect("campaigns")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");

    // A finished list campaign: its batches, openids and reports.
    let text = journal
        .planned_campaign("v1-text")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        text.content,
        Content::Text {
            text: "hello from v1".into()
        }
    );
    assert_eq!((text.audience, text.audience_size), (Audience::Openids, 25));
    let batches = journal.batches("v1-text").await.expect("batches");
    let sizes: Vec<u64> = batches.iter().map(|b| b.size).collect();
    assert_eq!(sizes, [10, 10, 5]);
    assert!(batches.iter().all(|b| {
        b.state == BatchState::Submitted
            && b.report
                .as_ref()
                .is_some_and(|r| r.sent_count == b.size as i64)
    }));
    let mut all = Vec::new();
    for b in &batches {
        let openids = journal.openids("v1-text", b.index).await.expect("openids");
        assert_eq!(openids.len() as u64, b.size);
        all.extend(openids);
    }
    assert!(all.iter().all(|o| o.len() == 28 && o.starts_with('o')));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 25, "no openid lost or repeated");

    // An unfinished one resumes where it stopped, with the same ids.
    let batches = journal.batches("v1-unfinished").await.expect("batches");
    let states: Vec<BatchState> = batches.iter().map(|b| b.state).collect();
    assert_eq!(states, [BatchState::Submitting, BatchState::Planned]);
    assert_eq!(
        batches[0].clientmsgid,
        wxmass_campaign::batch_clientmsgid("v1-unfinished", 0)
    );
    assert_eq!(
        journal
            .openids("v1-unfinished", 1)
            .await
            .expect("openids")
            .len(),
        10
    );

    // Files, media ids and articles in their typed forms.
    match journal
        .planned_campaign("v1-image")
        .await
        .expect("read")
        .map(|c| c.content)
    {
        Some(Content::Images { files }) => {
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].path.to_str(), Some("red.png"));
        }
        other => panic!("v1-image: {other:?}"),
    }
    let media = journal
        .planned_campaign("v1-media")
        .await
        .expect("read")
        .expect("there");
    assert!(matches!(
        media.content,
        Content::Uploaded { media_type: MediaType::Voice, ref media_id, .. } if media_id == "abc123"
    ));
    match journal
        .planned_campaign("v1-article")
        .await
        .expect("read")
        .map(|c| c.content)
    {
        Some(Content::Articles {
            articles,
            draft: false,
            ..
        }) => {
            assert_eq!(articles[0].file.path.to_str(), Some("art/a.md"));
        }
        other => panic!("v1-article: {other:?}"),
    }
    let report = journal.batches("v1-article").await.expect("batches")[0]
        .report
        .clone()
        .expect("reported");
    assert_eq!(report.sent_count, 60);
    // The uploads stay journalled, so a rerun uploads nothing again.
    let image = &journal
        .planned_campaign("v1-image")
        .await
        .expect("read")
        .expect("there");
    let Content::Images { files } = &image.content else {
        unreachable!()
    };
    assert!(
        journal
            .media(&image.appid, &files[0].sha256, "image_permanent", 0)
            .await
            .expect("media")
            .is_some()
    );
    assert_eq!(journal.push_count().await.expect("pushes"), 5);
    assert!(journal.stray_reports().await.expect("strays").is_empty());
    drop(journal);

    // Opening again changes nothing.
    let journal = SqliteStore::open(&path).expect("reopened");
    assert_eq!(journal.batches("v1-text").await.expect("batches").len(), 3);
}

/// A journal from a newer wxmass is refused and not changed at all.
#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let (_dir, path) = old_journal();
    // user_version is bytes 60..64 of the header, big-endian.
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[60..64].copy_from_slice(&((SCHEMA_VERSION + 1) as u32).to_be_bytes());
    std::fs::write(&path, &bytes).expect("write");
    let error = SqliteStore::open(&path).expect_err("refused");
    assert!(error.to_string().contains("newer wxmass"), "{error}");
    let after = std::fs::read(&path).expect("read");
    assert!(after == bytes, "the newer journal was changed");
}

/// The frozen schema steps of `backend`, in order, read from the source
/// tree: an old database is made by applying the first ones, as the
/// release that stopped there did.
fn steps(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/store/migrations")
        .join(backend);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the migrations folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read a step"))
        .collect()
}

/// A text campaign with one planned batch, in the tables of that version.
fn old_campaign_sql(campaigns: &str, batches: &str) -> String {
    let content = Content::Text {
        text: "written by an old release".into(),
    }
    .to_json()
    .replace('\'', "''");
    format!(
        "INSERT INTO {campaigns} (id, appid, content, audience_kind, tag_id, audience_size, created_at)
         VALUES ('old', 'wxA', '{content}', 'all', NULL, 0, 1700000000);
         INSERT INTO {batches} (campaign, idx, clientmsgid, size, state, updated_at)
         VALUES ('old', 0, 'old-0', 0, 'planned', 1700000000);"
    )
}

fn assert_old_campaign_reads(campaign: Option<wxmass_campaign::Campaign>, batches: usize) {
    let campaign = campaign.expect("the old campaign is there");
    assert_eq!(
        campaign.content,
        Content::Text {
            text: "written by an old release".into()
        }
    );
    assert_eq!(campaign.audience, Audience::All);
    assert_eq!(batches, 1);
}

/// Every SQLite schema a release wrote (0, the first release's unnumbered
/// tables, to 7, the last before the frozen files) opens and is upgraded.
#[tokio::test]
async fn every_sqlite_schema_a_release_wrote_is_upgraded_in_place() {
    let steps = steps("sqlite");
    for version in 0..=7usize {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("journal.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("create");
            if version == 0 {
                // The first release: 0001's `IF NOT EXISTS` tables alone.
                let first = steps[0].split("CREATE TABLE reports").next().expect("0001");
                conn.execute_batch(first)
                    .expect("the first release's tables");
            }
            for step in &steps[..version] {
                conn.execute_batch(step).expect("an old step");
            }
            conn.pragma_update(None, "user_version", version as i64)
                .expect("version");
            conn.execute_batch(&old_campaign_sql("campaigns", "batches"))
                .expect("an old campaign");
        }
        let journal = SqliteStore::open(&path).unwrap_or_else(|e| panic!("v{version}: {e}"));
        assert_eq!(journal.version().expect("version"), SCHEMA_VERSION);
        assert_old_campaign_reads(
            journal.planned_campaign("old").await.expect("read"),
            journal.batches("old").await.expect("batches").len(),
        );
    }
}

/// Every PostgreSQL schema a release wrote (1 to 6, numbered one behind
/// SQLite's then) opens and is upgraded; a newer one is refused.
#[tokio::test]
async fn every_postgres_schema_a_release_wrote_is_upgraded_in_place() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let steps = steps("postgres");
    let (client, connection) = tokio_postgres::connect(&postgres.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    for old in 1..=6usize {
        client
            .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            .await
            .expect("an empty database");
        // The old numbering's version N was the frozen steps 1..=N+1.
        for step in &steps[..=old] {
            client.batch_execute(step).await.expect("an old step");
        }
        client
            .batch_execute(&format!(
                "CREATE TABLE wxmass_schema (version INTEGER NOT NULL);
                 INSERT INTO wxmass_schema VALUES ({old});
                 {}",
                old_campaign_sql("wxmass_campaigns", "wxmass_batches")
            ))
            .await
            .expect("an old campaign");
        let journal = wxmass_campaign::store::open(
            &postgres.url,
            wxmass_campaign::store::DEFAULT_CONNECTIONS,
        )
        .await
        .unwrap_or_else(|e| panic!("v{old}: {e}"));
        assert_old_campaign_reads(
            journal.planned_campaign("old").await.expect("read"),
            journal.batches("old").await.expect("batches").len(),
        );
        let version: i32 = client
            .query_one("SELECT version FROM wxmass_schema", &[])
            .await
            .expect("version")
            .get(0);
        assert_eq!(i64::from(version), SCHEMA_VERSION);
    }
    client
        .batch_execute("UPDATE wxmass_schema SET version = version + 1")
        .await
        .expect("newer");
    let Err(error) =
        wxmass_campaign::store::open(&postgres.url, wxmass_campaign::store::DEFAULT_CONNECTIONS)
            .await
    else {
        panic!("a newer database was opened");
    };
    assert!(error.to_string().contains("newer wxmass"), "{error}");
}

/// Schema 12's two campaign tables: a campaign sent with the CLI (every
/// batch submitted), a server's draft to a tag, and a server campaign it
/// planned and finished (a row in both).
fn two_campaign_tables_sql() -> String {
    let content = Content::Text { text: "hi".into() }
        .to_json()
        .replace('\'', "''");
    format!(
        "INSERT INTO wxmass_campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at)
         VALUES ('cli', 'wxA', '{content}', 'all', NULL, 900, 1700000000),
                ('sent', 'wxA', '{content}', 'openids', NULL, 20, 1700000500);
         INSERT INTO wxmass_batches (campaign, idx, clientmsgid, size, state, msg_id, updated_at)
         VALUES ('cli', 0, 'cli-0', 0, 'submitted', 1, 1700000000),
                ('sent', 0, 'sent-0', 20, 'submitted', 2, 1700000500);
         INSERT INTO wxmass_server_campaigns (id, appid, name, content, audience, list, batch_size, state,
             send_at, created_by, approved_by, note, created_at, updated_at)
         VALUES ('draft', 'wxA', 'A draft', '{content}', '{{\"kind\":\"tag\",\"tag_id\":7}}', NULL, NULL,
                 'draft', NULL, 'bob', NULL, '', 1700000100, 1700000100),
                ('sent', 'wxA', 'Sent', '{content}', '{{\"kind\":\"openids\"}}', 'readers', 10, 'finished',
                 1700000400, 'bob', 'alice', 'ran late', 1700000300, 1700000600);"
    )
}

/// After schema 12, one campaign table: every campaign, whoever sent it,
/// is read in its life; the engine sees the planned ones only.
async fn assert_one_campaign_table(store: &dyn wxmass_campaign::Store) {
    use wxmass_campaign::lifecycle::CampaignState;
    let all = store.campaigns().await.expect("campaigns");
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["sent", "draft", "cli"], "newest first");
    let cli = &all[2];
    assert_eq!(
        (cli.name.as_str(), cli.state, cli.created_by.as_deref()),
        ("cli", CampaignState::Finished, None)
    );
    assert_eq!(cli.audience_size, 900);
    let draft = &all[1];
    assert_eq!(
        (draft.name.as_str(), draft.state),
        ("A draft", CampaignState::Draft)
    );
    assert_eq!(draft.audience, Audience::Tag { tag_id: 7 });
    assert_eq!(draft.created_by.as_deref(), Some("bob"));
    let sent = &all[0];
    assert_eq!(
        (sent.name.as_str(), sent.state, sent.note.as_str()),
        ("Sent", CampaignState::Finished, "ran late")
    );
    assert_eq!(
        (
            sent.approved_by.as_deref(),
            sent.list.as_deref(),
            sent.batch_size
        ),
        (Some("alice"), Some("readers"), Some(10))
    );
    assert_eq!(
        (&sent.audience, sent.audience_size, sent.created_at),
        (&Audience::Openids, 20, 1700000300)
    );
    let planned: Vec<String> = store
        .planned_campaigns()
        .await
        .expect("planned")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(planned, ["sent", "cli"], "a draft is not the engine's yet");
    assert!(
        store
            .planned_campaign("draft")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn schema_12s_two_campaign_tables_become_one_on_sqlite() {
    let steps = steps("sqlite");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("journal.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        for step in &steps[..12] {
            conn.execute_batch(step).expect("an old step");
        }
        conn.pragma_update(None, "user_version", 12)
            .expect("version");
        conn.execute_batch(&two_campaign_tables_sql())
            .expect("campaigns");
    }
    let store = wxmass_campaign::store::open_sqlite(&path).expect("open");
    assert_one_campaign_table(store.as_ref()).await;
}

#[tokio::test]
async fn schema_12s_two_campaign_tables_become_one_on_postgres() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let steps = steps("postgres");
    let (client, connection) = tokio_postgres::connect(&postgres.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    for step in &steps[..12] {
        client.batch_execute(step).await.expect("an old step");
    }
    client
        .batch_execute(&format!(
            "CREATE TABLE wxmass_schema (version INTEGER NOT NULL);
             INSERT INTO wxmass_schema VALUES (12);
             {}",
            two_campaign_tables_sql()
        ))
        .await
        .expect("campaigns");
    let store = wxmass_campaign::store::open(&postgres.url, 4)
        .await
        .expect("open");
    assert_one_campaign_table(store.as_ref()).await;
}
