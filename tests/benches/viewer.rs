//! Load benchmark: the authenticated `viewer` query over HTTP against PostgreSQL with RLS.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench viewer`.
//!
//! Starts the real server on 127.0.0.1 port 0 against a throwaway PostgreSQL cluster (row-level
//! security, non-owner role) and Redis, seeds a few spaces with people who accepted their
//! invitations, then drives `{ viewer { … } }` closed loop with N concurrent workers for a fixed
//! time, round-robin over the people's access tokens. Prints a table and writes the figures as
//! JSON to `target/bench-viewer.json`.
//!
//! Environment (all optional):
//! - `BENCH_SECS`: measured duration in seconds (default 10, at most 600: tokens last 15 min).
//! - `BENCH_WARMUP_SECS`: warm-up in seconds, not measured (default 2).
//! - `BENCH_CONCURRENCY`: concurrent workers (default 32).
//! - `BENCH_DB_CONNECTIONS`: the server's PostgreSQL pool size (default: the harness's).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::bench::{env_number, ms, percentile, report_path};
use spaces_tests::{Backend, TestApp, fixtures};

const TENANTS: usize = 4;
const PEOPLE_PER_TENANT: usize = 25;
const DEFAULT_SECS: f64 = 10.0;
const DEFAULT_WARMUP_SECS: f64 = 2.0;
const DEFAULT_CONCURRENCY: usize = 32;
/// Access tokens last 15 minutes; seeding plus the run must fit well inside.
const MAX_SECS: f64 = 600.0;
const MAX_CONCURRENCY: usize = 4096;
/// A request taking longer than this counts as an error (and keeps the loop bounded).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Error messages kept per worker, to show what went wrong.
const KEEP_ERRORS: usize = 3;

const VIEWER: &str = "{ viewer { id email givenName familyName roles { role } } }";

/// One signed-in person: the space it belongs to, the expected `viewer.id`, the bearer token.
struct Caller {
    tenant: String,
    person: String,
    authorization: String,
}

#[derive(Default)]
struct WorkerStats {
    /// Latencies of successful requests, in microseconds.
    latencies_us: Vec<u32>,
    errors: u64,
    samples: Vec<String>,
}

impl WorkerStats {
    fn error(&mut self, msg: String) {
        self.errors += 1;
        if self.samples.len() < KEEP_ERRORS {
            self.samples.push(msg);
        }
    }
}

struct Settings {
    secs: f64,
    warmup_secs: f64,
    concurrency: usize,
    db_connections: Option<u32>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let secs = env_number("BENCH_SECS")?.unwrap_or(DEFAULT_SECS);
        let warmup_secs = env_number("BENCH_WARMUP_SECS")?.unwrap_or(DEFAULT_WARMUP_SECS);
        let concurrency = env_number("BENCH_CONCURRENCY")?.unwrap_or(DEFAULT_CONCURRENCY);
        let db_connections = env_number("BENCH_DB_CONNECTIONS")?;
        ensure!(
            secs > 0.0 && secs + warmup_secs <= MAX_SECS,
            "BENCH_SECS must be positive and, with BENCH_WARMUP_SECS, at most {MAX_SECS} \
             (access tokens last 15 minutes)"
        );
        ensure!(warmup_secs >= 0.0, "BENCH_WARMUP_SECS must not be negative");
        ensure!(
            (1..=MAX_CONCURRENCY).contains(&concurrency),
            "BENCH_CONCURRENCY must be 1 to {MAX_CONCURRENCY}"
        );
        ensure!(
            db_connections.is_none_or(|n| n > 0),
            "BENCH_DB_CONNECTIONS must be positive"
        );
        Ok(Self {
            secs,
            warmup_secs,
            concurrency,
            db_connections,
        })
    }
}

/// Seeds one space: a company and its people, each of whom accepted their invitation.
async fn seed_tenant(app: Arc<TestApp>, op_token: String, n: usize) -> Vec<Caller> {
    let campus = fixtures::campus(&app, &op_token).await;
    let company = fixtures::company(&app, &campus, &format!("Company {n}")).await;
    let mut callers = Vec::with_capacity(PEOPLE_PER_TENANT);
    for i in 0..PEOPLE_PER_TENANT {
        // Mostly learners, some managers: role grants vary a little.
        let role = if i % 5 == 0 { "MANAGER" } else { "LEARNER" };
        let email = format!("person{i}@{}.test", campus.slug);
        let (person, token) =
            fixtures::member(&app, &campus, &campus.admin_token, &company, &email, role).await;
        callers.push(Caller {
            tenant: campus.slug.clone(),
            person,
            authorization: format!("Bearer {token}"),
        });
    }
    callers
}

async fn seed(app: &Arc<TestApp>) -> anyhow::Result<Vec<Caller>> {
    let op_token = fixtures::operator(app).await;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..TENANTS {
        set.spawn(seed_tenant(app.clone(), op_token.clone(), n));
    }
    let mut per_tenant = Vec::with_capacity(TENANTS);
    while let Some(r) = set.join_next().await {
        per_tenant.push(r.context("seeding a space")?);
    }
    // Interleave the spaces so that consecutive requests address different tenants.
    let mut callers = Vec::with_capacity(TENANTS * PEOPLE_PER_TENANT);
    let mut iters: Vec<_> = per_tenant.into_iter().map(Vec::into_iter).collect();
    loop {
        let before = callers.len();
        callers.extend(iters.iter_mut().filter_map(Iterator::next));
        if callers.len() == before {
            break;
        }
    }
    // One checked request per caller before timing anything.
    for c in &callers {
        let v = app
            .gql(
                Some(&c.tenant),
                c.authorization.strip_prefix("Bearer "),
                VIEWER,
                json!({}),
            )
            .await;
        ensure!(
            ok(&v)["viewer"]["id"].as_str() == Some(c.person.as_str()),
            "viewer of a fresh token is not its person: {v}"
        );
    }
    Ok(callers)
}

/// One request; `Ok` if it answered the caller's viewer without errors.
async fn viewer_once(
    client: &reqwest::Client,
    url: &str,
    body: &'static str,
    c: &Caller,
) -> Result<(), String> {
    let resp = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Tenant", &c.tenant)
        .header("Authorization", &c.authorization)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = resp.status();
    let v: Value = resp
        .json()
        .await
        .map_err(|e| format!("HTTP {status}, body: {e}"))?;
    if !status.is_success() || v.get("errors").is_some() {
        return Err(format!("HTTP {status}: {v}"));
    }
    if v["data"]["viewer"]["id"].as_str() != Some(c.person.as_str()) {
        return Err(format!("wrong or missing viewer: {v}"));
    }
    Ok(())
}

/// Closed loop: each worker sends its next request as soon as the last one answered, until the
/// deadline. Returns the per-worker stats and the wall time from start to the last worker's end.
async fn run_phase(
    client: &reqwest::Client,
    url: &Arc<str>,
    body: &'static str,
    callers: &Arc<Vec<Caller>>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<(Vec<WorkerStats>, Duration)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, callers, next) =
            (client.clone(), url.clone(), callers.clone(), next.clone());
        set.spawn(async move {
            let mut stats = WorkerStats {
                latencies_us: Vec::with_capacity(16 * 1024),
                ..WorkerStats::default()
            };
            while Instant::now() < deadline {
                let c = &callers[next.fetch_add(1, Ordering::Relaxed) % callers.len()];
                let t0 = Instant::now();
                match viewer_once(&client, &url, body, c).await {
                    Ok(()) => {
                        let us = t0.elapsed().as_micros();
                        stats
                            .latencies_us
                            .push(u32::try_from(us).unwrap_or(u32::MAX));
                    }
                    Err(e) => stats.error(e),
                }
            }
            stats
        });
    }
    let mut all = Vec::with_capacity(concurrency);
    while let Some(r) = set.join_next().await {
        all.push(r.context("a load worker panicked")?);
    }
    Ok((all, started.elapsed()))
}

/// Nearest-rank percentile of sorted values.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    eprintln!("viewer bench: starting PostgreSQL, Redis and the server …");
    let db_connections = settings.db_connections;
    let app = TestApp::start_with(Backend::Postgres, |config| {
        // Nothing is mailed here: the outbox worker would only add its load to the figures.
        config.outbox_interval = std::time::Duration::from_secs(3600);
        if let Some(n) = db_connections {
            config.db_max_connections = n;
        }
    })
    .await;
    ensure!(
        app.base.starts_with("http://127.0.0.1:"),
        "the server is not on 127.0.0.1: {}",
        app.base
    );
    let pool = app.state.config.db_max_connections;
    let app = Arc::new(app);

    let t = Instant::now();
    eprintln!(
        "viewer bench: seeding {TENANTS} spaces × {PEOPLE_PER_TENANT} people (invite + accept) …"
    );
    let callers = Arc::new(seed(&app).await?);
    eprintln!(
        "viewer bench: {} tokens in {:.1} s",
        callers.len(),
        t.elapsed().as_secs_f64()
    );

    let body: &'static str = Box::leak(json!({ "query": VIEWER }).to_string().into_boxed_str());
    let url: Arc<str> = Arc::from(format!("{}/graphql", app.base));
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(settings.concurrency)
        .no_proxy()
        .build()
        .context("building the HTTP client")?;

    if settings.warmup_secs > 0.0 {
        eprintln!(
            "viewer bench: warm-up {} s, {} workers …",
            settings.warmup_secs, settings.concurrency
        );
        let (warm, _) = run_phase(
            &client,
            &url,
            body,
            &callers,
            settings.concurrency,
            Duration::from_secs_f64(settings.warmup_secs),
        )
        .await?;
        let errs: u64 = warm.iter().map(|w| w.errors).sum();
        if errs > 0 {
            eprintln!("viewer bench: {errs} errors during warm-up");
        }
    }

    eprintln!("viewer bench: measuring {} s …", settings.secs);
    let (stats, elapsed) = run_phase(
        &client,
        &url,
        body,
        &callers,
        settings.concurrency,
        Duration::from_secs_f64(settings.secs),
    )
    .await?;
    drop(client);

    let errors: u64 = stats.iter().map(|w| w.errors).sum();
    let samples: Vec<String> = stats
        .iter()
        .flat_map(|w| w.samples.iter().cloned())
        .take(KEEP_ERRORS)
        .collect();
    let mut lat: Vec<u32> = stats.into_iter().flat_map(|w| w.latencies_us).collect();
    lat.sort_unstable();
    let ok_count = lat.len() as u64;
    let total = ok_count + errors;
    let secs = elapsed.as_secs_f64();
    let rps = ok_count as f64 / secs;
    let mean_us = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&u| f64::from(u)).sum::<f64>() / lat.len() as f64
    };
    let (p50, p90, p99, max) = (
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(0),
    );

    println!();
    println!("viewer query, closed loop over HTTP (127.0.0.1)");
    println!("  {:<22} PostgreSQL (RLS) + Redis", "backend");
    println!("  {:<22} {}", "concurrency", settings.concurrency);
    println!("  {:<22} {}", "cores", cores);
    println!("  {:<22} {}", "db pool", pool);
    println!(
        "  {:<22} {} spaces, {} tokens",
        "callers",
        TENANTS,
        callers.len()
    );
    println!(
        "  {:<22} {:.2} s (after {} s warm-up)",
        "measured", secs, settings.warmup_secs
    );
    println!("  {:<22} {}", "requests", total);
    println!("  {:<22} {}", "errors", errors);
    println!("  {:<22} {:.1}", "requests/s (ok)", rps);
    println!("  {:<22} {:.2} ms", "latency mean", mean_us / 1000.0);
    println!("  {:<22} {:.2} ms", "latency p50", ms(p50));
    println!("  {:<22} {:.2} ms", "latency p90", ms(p90));
    println!("  {:<22} {:.2} ms", "latency p99", ms(p99));
    println!("  {:<22} {:.2} ms", "latency max", ms(max));
    for s in &samples {
        println!("  error: {s}");
    }

    let report = json!({
        "bench": "viewer",
        "query": VIEWER,
        "at": chrono::Utc::now().to_rfc3339(),
        "backend": "postgres",
        "concurrency": settings.concurrency,
        "cores": cores,
        "db_max_connections": pool,
        "tenants": TENANTS,
        "tokens": callers.len(),
        "warmup_secs": settings.warmup_secs,
        "measured_secs": secs,
        "requests": total,
        "ok": ok_count,
        "errors": errors,
        "error_samples": samples,
        "requests_per_sec": rps,
        "latency_us": { "mean": mean_us, "p50": p50, "p90": p90, "p99": p99, "max": max },
    });
    let path = report_path("bench-viewer.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("  {:<22} {}", "json", path.display());

    // Stop the server; the PostgreSQL cluster and Redis go when the process ends.
    drop(callers);
    match Arc::try_unwrap(app) {
        Ok(app) => {
            if tokio::time::timeout(Duration::from_secs(10), app.stop())
                .await
                .is_err()
            {
                eprintln!("viewer bench: the server did not stop within 10 s");
            }
        }
        Err(_) => bail!("the app is still shared after the run"),
    }
    if errors > 0 {
        bail!("{errors} of {total} requests failed");
    }
    Ok(())
}
