//! Token stores shared by several OS processes: four processes on a cold
//! store cause exactly one token fetch. The processes are this test binary,
//! run again with `WXMASS_TOKEN_WORKER` set, which makes `token_worker` act.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::*;
use wxmass_api::{Client, SqliteStore, TokenStore};
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};

const WORKER_ENV: &str = "WXMASS_TOKEN_WORKER";

/// Runs 4 copies of `token_worker` against `store_spec` and waits for them.
fn run_workers(store_spec: &str, emulator_url: &str) {
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "token_worker", "--nocapture", "--test-threads=1"])
                .env(WORKER_ENV, format!("{store_spec}|{emulator_url}"))
                .spawn()
                .expect("spawn a worker")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("worker ran");
        assert!(status.success(), "a worker failed: {status}");
    }
}

/// The worker: 50 concurrent calls through a client on the shared store.
/// Without `WXMASS_TOKEN_WORKER` (a normal test run) there is nothing to do.
#[tokio::test]
async fn token_worker() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '|');
    let (kind, location, url) = (
        parts.next().expect("kind"),
        parts.next().expect("location"),
        parts.next().expect("url"),
    );
    let store: Arc<dyn TokenStore> = match kind {
        "sqlite" => Arc::new(SqliteStore::open(location).expect("open sqlite")),
        "redis" => Arc::new(
            wxmass_api::RedisStore::connect(location)
                .await
                .expect("connect redis"),
        ),
        "postgres" => Arc::new(
            wxmass_api::PostgresStore::connect(location)
                .await
                .expect("connect postgres"),
        ),
        other => panic!("unknown store {other}"),
    };
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(url)
        .token_store(store)
        .build()
        .expect("client");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.mass().speed().await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("call");
    }
}

#[tokio::test]
async fn four_processes_sharing_sqlite_fetch_one_token() {
    let emu = default_emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tokens.db");
    let (spec, url) = (format!("sqlite|{}", db.display()), emu.url());
    // Wait off the runtime: the emulator serves the workers from it.
    tokio::task::spawn_blocking(move || run_workers(&spec, &url))
        .await
        .expect("workers");
    assert_eq!(emu.token_fetches().await, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).expect("db").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the token file is private");
    }
}

#[tokio::test]
async fn sqlite_lock_expires_when_its_holder_dies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("t.db")).expect("open");
    let ttl = std::time::Duration::from_millis(200);
    assert!(store.try_lock("k", "dead", ttl).await.expect("lock"));
    assert!(!store.try_lock("k", "alive", ttl).await.expect("held"));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert!(store.try_lock("k", "alive", ttl).await.expect("expired"));
    // Compare-and-delete: the dead holder cannot release the new holder's lock.
    store.unlock("k", "dead").await.expect("unlock");
    assert!(!store.try_lock("k", "third", ttl).await.expect("still held"));
    store.unlock("k", "alive").await.expect("unlock");
    assert!(store.try_lock("k", "third", ttl).await.expect("free"));
}

#[tokio::test]
async fn four_processes_sharing_redis_fetch_one_token() {
    let Some(redis) = start_redis() else {
        return;
    };
    let emu = default_emulator().await;
    let (spec, url) = (format!("redis|{}", redis.url), emu.url());
    tokio::task::spawn_blocking(move || run_workers(&spec, &url))
        .await
        .expect("workers");
    assert_eq!(emu.token_fetches().await, 1);
}

/// What every shared store must do: a lock that expires when its holder
/// dies and that only its holder releases, and tokens deleted only if they
/// are still the one that failed.
async fn lock_expires_and_is_compare_and_delete(store: &dyn TokenStore) {
    let ttl = std::time::Duration::from_millis(200);
    assert!(store.try_lock("k", "dead", ttl).await.expect("lock"));
    assert!(!store.try_lock("k", "alive", ttl).await.expect("held"));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert!(store.try_lock("k", "alive", ttl).await.expect("expired"));
    store.unlock("k", "dead").await.expect("unlock");
    assert!(!store.try_lock("k", "third", ttl).await.expect("still held"));
    // Tokens: compare-and-delete too.
    let token = wxmass_api::CachedToken {
        token: "t1".into(),
        expires_at_ms: wxmass_api::token::now_ms() + 60_000,
    };
    store.save("tok", &token).await.expect("save");
    store.invalidate("tok", "other").await.expect("invalidate");
    assert_eq!(store.load("tok").await.expect("load"), Some(token));
    store.invalidate("tok", "t1").await.expect("invalidate");
    assert_eq!(store.load("tok").await.expect("load"), None);
}

#[tokio::test]
async fn redis_lock_expires_and_is_compare_and_delete() {
    let Some(redis) = start_redis() else {
        return;
    };
    let store = wxmass_api::RedisStore::connect(&redis.url)
        .await
        .expect("connect");
    lock_expires_and_is_compare_and_delete(&store).await;
}

#[tokio::test]
async fn four_processes_sharing_postgres_fetch_one_token() {
    let Some(postgres) = start_postgres() else {
        return;
    };
    let emu = default_emulator().await;
    let (spec, url) = (format!("postgres|{}", postgres.url), emu.url());
    tokio::task::spawn_blocking(move || run_workers(&spec, &url))
        .await
        .expect("workers");
    assert_eq!(emu.token_fetches().await, 1);
}

#[tokio::test]
async fn postgres_lock_expires_and_is_compare_and_delete() {
    let Some(postgres) = start_postgres() else {
        return;
    };
    let store = wxmass_api::PostgresStore::connect(&postgres.url)
        .await
        .expect("connect");
    lock_expires_and_is_compare_and_delete(&store).await;
}
