//! A throwaway Redis server that lives for one test binary run.
//!
//! The server keeps everything in memory (no RDB snapshots, no AOF) and its
//! working directory and log live under `/dev/shm`. Because the server is
//! normally kept in a `static OnceLock` (whose value is never dropped), a small
//! watchdog shell process kills it and deletes the directory once the test
//! process is gone, however it ends.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

const DIR_PREFIX: &str = "spaces-redis-";
const PID_FILE: &str = "redis.pid";
const SHM: &str = "/dev/shm";
/// How long a freshly spawned server gets to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Server start attempts (each on a fresh port).
const START_ATTEMPTS: u32 = 3;

/// Distinguishes servers started by the same process (normally just one).
static NEXT_SERVER: AtomicU32 = AtomicU32::new(0);

/// One running `redis-server`; killed on drop or, failing that, by its
/// watchdog when the test process exits.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    server: Child,
    /// `sh` blocked reading a pipe whose write end only we hold; when this
    /// process dies the kernel closes the pipe and the watchdog kills the
    /// server. Unlike polling `kill -0 <pid>`, this reacts immediately.
    watchdog: Option<Child>,
}

impl RedisServer {
    /// Spawns a server on a free loopback port and waits until it answers
    /// `PING` (typically ~10 ms).
    pub fn start() -> anyhow::Result<RedisServer> {
        let Some(program) = find_on_path("redis-server") else {
            bail!(
                "Redis is required for these tests; install it with \
                 `apt-get update && apt-get install -y redis-server` (as root)"
            );
        };
        remove_stale_dirs();

        let n = NEXT_SERVER.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(SHM).join(format!("{DIR_PREFIX}{}-{n}", std::process::id()));
        // A leftover from an earlier process with our pid is of no use.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        let log = dir.join("redis.log");

        // The port is only reserved until we release it, so another process
        // may grab it before the server binds; pick another one in that case.
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            let server = command(&program, port, &dir, &log)
                .spawn()
                .with_context(|| format!("failed to spawn {}", program.display()))?;
            let watchdog = match spawn_watchdog(server.id(), &dir) {
                Ok(watchdog) => Some(watchdog),
                Err(e) => {
                    kill_and_reap(server);
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            // From here on, dropping `redis` cleans up.
            let mut redis = RedisServer {
                port,
                dir: dir.clone(),
                server,
                watchdog,
            };
            match redis.wait_until_ready() {
                Ok(()) => return Ok(redis),
                Err(e) => {
                    let log_tail = tail(&log, 20);
                    if attempt < START_ATTEMPTS && log_tail.contains("Address already in use") {
                        // Keep the directory for the next attempt.
                        redis.dir = PathBuf::new();
                        drop(redis);
                        attempt += 1;
                        continue;
                    }
                    return Err(e.context(format!(
                        "redis-server did not start\n--- log (tail) ---\n{log_tail}"
                    )));
                }
            }
        }
    }

    /// TCP port the server listens on (on 127.0.0.1).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/`
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server, as when Redis goes away; [`RedisServer::restart`] brings it back.
    pub fn stop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            kill_and_reap(watchdog);
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    /// Starts the server again on the same port (empty: it keeps nothing on disk).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let program = find_on_path("redis-server").context("redis-server is not installed")?;
        let log = self.dir.join("redis.log");
        self.server = command(&program, self.port, &self.dir, &log)
            .spawn()
            .with_context(|| format!("failed to spawn {}", program.display()))?;
        self.watchdog = Some(spawn_watchdog(self.server.id(), &self.dir)?);
        self.wait_until_ready()
    }

    /// Polls with `PING` until the server answers `+PONG`, or fails early if
    /// the server process exits.
    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Some(status) = self.server.try_wait()? {
                bail!("redis-server exited with {status}");
            }
            match ping(addr) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "redis-server did not answer PING within {READY_TIMEOUT:?}"
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Kill the watchdog first: once we have reaped the server its pid may
        // be reused, and the watchdog must not kill that process.
        if let Some(watchdog) = self.watchdog.take() {
            kill_and_reap(watchdog);
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The server's command line: in memory only, on loopback, logging into `dir`.
fn command(program: &Path, port: u16, dir: &Path, log: &Path) -> Command {
    let mut c = Command::new(program);
    c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(log)
        // Lets a later run find (and kill) this server if both we and
        // the watchdog are killed.
        .arg("--pidfile")
        .arg(dir.join(PID_FILE))
        .current_dir(dir)
        .stdin(Stdio::null())
        // Must not hold the test's stdout/stderr open (see watchdog).
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// One `PING` round trip on a fresh connection.
fn ping(addr: SocketAddr) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(1);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply)?;
    if &reply != b"+PONG\r\n" {
        bail!(
            "unexpected reply to PING: {:?}",
            String::from_utf8_lossy(&reply)
        );
    }
    Ok(())
}

/// Starts the watchdog: an `sh` in its own process group (so a Ctrl-C aimed
/// at the test run does not kill it first) that waits for EOF on stdin, then
/// kills the server and deletes `dir`.
fn spawn_watchdog(server_pid: u32, dir: &Path) -> anyhow::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(
            r#"read -r line
kill -9 "$1" 2>/dev/null
rm -rf "$2""#,
        )
        .arg("sh")
        .arg(server_pid.to_string())
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        // Must not hold the test's stdout/stderr open: whoever reads them
        // (cargo, nextest, CI) would wait for the watchdog.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("failed to spawn the Redis watchdog")
}

fn kill_and_reap(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Best effort: kills the servers of test processes that no longer exist
/// (their watchdog was killed too) and deletes their directories.
fn remove_stale_dirs() {
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
        if pid == std::process::id() || is_alive(pid) {
            continue;
        }
        let server_pid = std::fs::read_to_string(entry.path().join(PID_FILE))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        if let Some(server_pid) = server_pid {
            // Guard against the pid having been reused by something else.
            let comm = std::fs::read_to_string(format!("/proc/{server_pid}/comm"));
            if comm.is_ok_and(|comm| comm.trim() == "redis-server") {
                let _ = Command::new("kill")
                    .args(["-9", &server_pid.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(entry.path());
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

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Asks the kernel for a free loopback port, then releases it for the server.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?.port())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RedisServer>();
    }
}
