//! A throwaway PostgreSQL 15 cluster that lives for one test binary run.
//!
//! The cluster runs from a data directory under `/dev/shm` (RAM, so no disk
//! I/O) with durability switched off, and trusts every local TCP connection.
//! Because the cluster is normally kept in a `static OnceLock` (whose value is
//! never dropped), a small watchdog shell process stops the server and deletes
//! the data directory once the test process is gone, however it ends.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// Where Debian/Ubuntu's `postgresql-15` package puts the server binaries.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// Superuser created by `initdb -U`.
pub const SUPERUSER: &str = "owner";
/// System account that runs the server when we are root (PostgreSQL refuses
/// to run as root).
const PG_SYSTEM_USER: &str = "postgres";
const DIR_PREFIX: &str = "spaces-pg-";
/// `CREATE DATABASE .. TEMPLATE` attempts while the template is in use; the
/// server itself waits up to 5 s per attempt.
const CREATE_DATABASE_ATTEMPTS: u32 = 4;
/// Server start attempts (each on a fresh port).
const START_ATTEMPTS: u32 = 3;
const SHM: &str = "/dev/shm";

/// Distinguishes clusters started by the same process (normally just one).
static NEXT_CLUSTER: AtomicU32 = AtomicU32::new(0);

/// One running PostgreSQL cluster; stopped and deleted on drop or, failing
/// that, by its watchdog when the test process exits.
#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    /// `sh` blocked reading a pipe whose write end only we hold; when this
    /// process dies the kernel closes the pipe and the watchdog cleans up.
    /// Unlike polling `kill -0 <pid>`, this cannot be fooled by pid reuse
    /// and reacts immediately.
    watchdog: Option<Child>,
}

impl PgCluster {
    /// Creates and starts a new cluster on a free loopback port. Blocks for
    /// the duration of `initdb` + server start-up (a second or two).
    pub fn start() -> anyhow::Result<PgCluster> {
        for tool in ["initdb", "pg_ctl", "psql"] {
            if !Path::new(PG_BIN).join(tool).is_file() {
                bail!(
                    "PostgreSQL 15 is required for these tests; install it with \
                     `apt-get update && apt-get install -y postgresql` (as root)"
                );
            }
        }
        let as_postgres = running_as_root()?;
        remove_stale_clusters(as_postgres);

        let n = NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(SHM).join(format!("{DIR_PREFIX}{}-{n}", std::process::id()));
        if dir.exists() {
            // Left over from an earlier process with our pid; nothing can be
            // using it now.
            stop_and_remove(&dir, as_postgres);
        }
        let mut cluster = PgCluster {
            watchdog: Some(spawn_watchdog(&dir, as_postgres)?),
            dir,
            port: 0,
            as_postgres,
        };
        // On any error below, dropping `cluster` undoes the partial setup.
        cluster.init()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// TCP port the server listens on (on 127.0.0.1).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://user[:password]@127.0.0.1:PORT/db`, with the parts
    /// percent-encoded where needed.
    #[must_use]
    pub fn url(&self, user: &str, password: Option<&str>, db: &str) -> String {
        let user = percent_encode(user);
        let db = percent_encode(db);
        match password {
            Some(password) => format!(
                "postgres://{user}:{}@127.0.0.1:{}/{db}",
                percent_encode(password),
                self.port
            ),
            None => format!("postgres://{user}@127.0.0.1:{}/{db}", self.port),
        }
    }

    /// Runs `sql` in database `db` as the superuser through `psql` and
    /// returns its unaligned, tuples-only stdout (`-At`), with trailing
    /// newlines removed; so `SELECT 1` gives `"1"`. Blocking: from async code
    /// prefer `tokio::task::spawn_blocking`.
    pub fn psql(&self, db: &str, sql: &str) -> anyhow::Result<String> {
        let output = Command::new(Path::new(PG_BIN).join("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", db, "-c", sql])
            // Never hang a test run on an unreachable server.
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .context("failed to run psql")?;
        if !output.status.success() {
            bail!(
                "psql failed ({}) running {sql:?} in database {db:?}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let mut stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout.truncate(stdout.trim_end_matches('\n').len());
        Ok(stdout)
    }

    /// `CREATE DATABASE name [TEMPLATE template] [OWNER owner_role]`.
    ///
    /// Cloning a template fails while anything else is connected to it (the
    /// server itself already waits up to 5 s for such sessions to go away),
    /// so that case is retried a few times.
    pub fn create_database(
        &self,
        name: &str,
        template: Option<&str>,
        owner_role: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Some(template) = template {
            sql = format!("{sql} TEMPLATE {}", quote_ident(template));
        }
        if let Some(owner_role) = owner_role {
            sql = format!("{sql} OWNER {}", quote_ident(owner_role));
        }
        let mut attempt = 1;
        loop {
            match self.psql("postgres", &sql) {
                Ok(_) => return Ok(()),
                Err(e)
                    if attempt < CREATE_DATABASE_ATTEMPTS
                        && e.to_string().contains("is being accessed by other users") =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("failed to create database {name:?}"));
                }
            }
        }
    }

    fn init(&self) -> anyhow::Result<()> {
        let output = self
            .pg_command("initdb")
            .arg("-D")
            .arg(&self.dir)
            .args([
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
            ])
            .output()
            .context("failed to run initdb")?;
        if !output.status.success() {
            bail!("initdb failed: {}", describe_failure(&output, None));
        }
        Ok(())
    }

    fn start_server(&mut self) -> anyhow::Result<()> {
        let log = self.dir.join("log");
        // The port is only reserved until we release it, so another process
        // may grab it before the server binds; pick another one in that case.
        let mut attempt = 1;
        loop {
            self.port = free_port()?;
            let output = self.pg_ctl_start(&log)?;
            if output.status.success() {
                return Ok(());
            }
            let log_tail = tail(&log, 40);
            if attempt < START_ATTEMPTS && log_tail.contains("could not bind") {
                attempt += 1;
                continue;
            }
            bail!(
                "pg_ctl start failed: {}",
                describe_failure(&output, Some(&log_tail))
            );
        }
    }

    fn pg_ctl_start(&self, log: &Path) -> anyhow::Result<Output> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.dir)
            .args(["-w", "-o", &options, "-l"])
            .arg(log)
            .arg("start")
            .output()
            .context("failed to run pg_ctl start")
    }

    /// Stops the server as an operator's restart does (`-m fast`: sessions are ended, commits
    /// kept; `-m immediate` would lose the last commits, as durability is off here); the data
    /// stays, and [`PgCluster::start_again`] brings it back on the same port. For outage tests:
    /// use a cluster of the test's own, never the shared one.
    pub fn stop_now(&self) -> anyhow::Result<()> {
        let output = self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .context("failed to run pg_ctl stop")?;
        if !output.status.success() {
            bail!("pg_ctl stop failed: {}", describe_failure(&output, None));
        }
        Ok(())
    }

    /// Starts a server stopped by [`PgCluster::stop_now`] again, on the same port.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let log = self.dir.join("log");
        let output = self.pg_ctl_start(&log)?;
        if !output.status.success() {
            bail!(
                "pg_ctl start failed: {}",
                describe_failure(&output, Some(&tail(&log, 40)))
            );
        }
        Ok(())
    }

    /// A command for a server binary, run as `postgres` when we are root.
    fn pg_command(&self, tool: &str) -> Command {
        pg_command(tool, self.as_postgres)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            // Closing its pipe makes the watchdog stop the server and delete
            // the directory; wait so that is done when drop returns.
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
        // In case the watchdog had died or could not do its job.
        if self.dir.exists() {
            stop_and_remove(&self.dir, self.as_postgres);
        }
    }
}

fn pg_command(tool: &str, as_postgres: bool) -> Command {
    let program = Path::new(PG_BIN).join(tool);
    let mut command = if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", PG_SYSTEM_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    // `postgres` may not be allowed into our working directory, and initdb
    // fails if it cannot resolve it.
    command.current_dir("/").stdin(Stdio::null());
    command
}

/// Starts the watchdog: an `sh` in its own process group (so a Ctrl-C aimed
/// at the test run does not kill it before it has cleaned up) that waits for
/// EOF on stdin, then stops the server and deletes `dir`.
fn spawn_watchdog(dir: &Path, as_postgres: bool) -> anyhow::Result<Child> {
    let pg_ctl = pg_command("pg_ctl", as_postgres);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(
            r#"dir=$1; shift
read -r line
"$@" -D "$dir" -m immediate stop >/dev/null 2>&1
rm -rf "$dir""#,
        )
        .arg("sh")
        .arg(dir)
        .arg(pg_ctl.get_program())
        .args(pg_ctl.get_args())
        .current_dir("/")
        .stdin(Stdio::piped())
        // Must not hold the test's stdout/stderr open: whoever reads them
        // (cargo, nextest, CI) would wait for the watchdog.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    command
        .spawn()
        .context("failed to spawn the PostgreSQL watchdog")
}

/// Best effort: stops the server in `dir`, if any, and deletes `dir`.
fn stop_and_remove(dir: &Path, as_postgres: bool) {
    if dir.join("postmaster.pid").exists() {
        let _ = pg_command("pg_ctl", as_postgres)
            .arg("-D")
            .arg(dir)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Best effort: deletes clusters of test processes that no longer exist
/// (their watchdog was killed too, or the machine's pid namespace changed).
fn remove_stale_clusters(as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(SHM) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<u32>) else {
            continue;
        };
        if pid != std::process::id() && !is_alive(pid) {
            stop_and_remove(&entry.path(), as_postgres);
        }
    }
}

/// Whether process `pid` exists and is not a zombie (a killed test process
/// stays a zombie until its parent reaps it).
fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself
    // contain spaces and parentheses.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}

/// `/proc/self` is owned by the effective uid; avoids `libc` (and `unsafe`).
fn running_as_root() -> anyhow::Result<bool> {
    Ok(std::fs::metadata("/proc/self")
        .context("cannot determine the current user from /proc/self")?
        .uid()
        == 0)
}

/// Asks the kernel for a free loopback port, then releases it for the server.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?.port())
}

fn describe_failure(output: &Output, log_tail: Option<&str>) -> String {
    // Writing to a String cannot fail, hence the ignored results below.
    let mut message = output.status.to_string();
    for (label, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if !text.trim().is_empty() {
            let _ = write!(message, "\n--- {label} ---\n{}", text.trim_end());
        }
    }
    if let Some(log_tail) = log_tail {
        let _ = write!(
            message,
            "\n--- server log (tail) ---\n{}",
            log_tail.trim_end()
        );
    }
    message
}

/// The last `lines` lines of a file, or a note saying why there are none.
fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Quotes an SQL identifier: `a"b` becomes `"a""b"`.
fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<PgCluster>();
    }

    #[test]
    fn quotes_and_encodes() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(percent_encode("p@ss:w/rd é"), "p%40ss%3Aw%2Frd%20%C3%A9");
        assert_eq!(percent_encode("app_user-1.x~"), "app_user-1.x~");
    }
}
