//! Real servers for wxmass's tests, each of the test's own: a
//! `redis-server` and a throwaway PostgreSQL cluster on free loopback
//! ports, stopped and removed when dropped. Without the programs a test is
//! skipped with a notice, unless `WXMASS_REQUIRE_REDIS=1` /
//! `WXMASS_REQUIRE_POSTGRES=1` (as in CI) make that a failure.
//!
//! Not published: a dev-dependency of the workspace's own tests.

#![allow(clippy::missing_panics_doc)]

/// A `redis-server` of the test's own on a free loopback port; stopped on drop.
pub struct RedisServer {
    child: std::process::Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Redis, or explains why not: without `redis-server` the test is
/// skipped with a notice, unless `WXMASS_REQUIRE_REDIS=1` (as in CI).
pub fn start_redis() -> Option<RedisServer> {
    let required = std::env::var("WXMASS_REQUIRE_REDIS").is_ok_and(|v| v == "1");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let dir = tempfile::tempdir().expect("tempdir");
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) if !required => {
            eprintln!(
                "NOTICE: redis-server not available ({e}); skipping the Redis test (set WXMASS_REQUIRE_REDIS=1 to fail instead)"
            );
            return None;
        }
        Err(e) => panic!("WXMASS_REQUIRE_REDIS=1 but redis-server cannot start: {e}"),
    };
    // Wait until it accepts connections.
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(RedisServer {
                child,
                url: format!("redis://127.0.0.1:{port}/0"),
                _dir: dir,
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("redis-server did not start listening on port {port}");
}

/// A throwaway PostgreSQL cluster of the test's own (initdb and pg_ctl from
/// PostgreSQL 15, in a temporary folder, on a free loopback port); stopped
/// and removed on drop.
pub struct PostgresServer {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    as_postgres: bool,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl PostgresServer {
    /// A PostgreSQL program, run as the `postgres` user when we are root
    /// (initdb refuses to run as root).
    fn program(bin: &std::path::Path, name: &str, as_postgres: bool) -> std::process::Command {
        if as_postgres {
            let mut cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(bin.join(name));
            cmd
        } else {
            std::process::Command::new(bin.join(name))
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = Self::program(&self.bin, "pg_ctl", self.as_postgres)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Starts PostgreSQL, or explains why not: without its binaries the test is
/// skipped with a notice, unless `WXMASS_REQUIRE_POSTGRES=1` (as in CI).
pub fn start_postgres() -> Option<PostgresServer> {
    let required = std::env::var("WXMASS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let bin = std::path::PathBuf::from(
        std::env::var("WXMASS_POSTGRES_BIN")
            .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    );
    if !bin.join("initdb").exists() {
        assert!(
            !required,
            "WXMASS_REQUIRE_POSTGRES=1 but there is no initdb in {}",
            bin.display()
        );
        eprintln!(
            "NOTICE: no PostgreSQL in {} (apt-get install postgresql); skipping the PostgreSQL test (set WXMASS_REQUIRE_POSTGRES=1 to fail instead)",
            bin.display()
        );
        return None;
    }
    let as_postgres = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let dir = tempfile::tempdir().expect("tempdir");
    if as_postgres {
        let status = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "cannot hand the cluster's folder to postgres"
        );
    }
    let data = dir.path().join("data");
    let initdb = PostgresServer::program(&bin, "initdb", as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run initdb");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        dir.path().display()
    );
    let started = PostgresServer::program(&bin, "pg_ctl", as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-w", "-t", "60", "-l"])
        .arg(dir.path().join("log"))
        .arg("start")
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run pg_ctl");
    let server = PostgresServer {
        bin,
        data,
        as_postgres,
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        _dir: dir,
    };
    assert!(
        started.status.success(),
        "pg_ctl start failed: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    Some(server)
}
