//! Billing benchmark on PostgreSQL with RLS: invoice issuance and the seat check on enrolment.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench billing`.
//!
//! 1. `issueInvoice` (GraphQL, by each space's admin) closed loop: N workers spread over 100
//!    spaces, then N workers all in one space (its invoice counter row is the hot spot). After
//!    the run every space's invoice numbers must be 1..count with no gap, and count must be what
//!    the bench was answered.
//! 2. `enrol` (GraphQL, by each space's admin, a new learner by e-mail each time, into an
//!    edition included in a live subscription with enough seats) against the same database
//!    through a second server whose admission gate is `NoGate`: paired rounds (which goes
//!    first alternates), and the median ratio of their throughputs.
//!
//! Environment (all optional):
//! - `BENCH_SECS`: measured seconds of each invoice phase (default 15).
//! - `BENCH_WARMUP_SECS`: warm-up before each phase and round, not measured (default 2).
//! - `BENCH_ROUND_SECS`, `BENCH_ROUNDS`: measured seconds of each enrolment round per server,
//!   and the number of paired rounds (defaults 6 and 4).
//! - `BENCH_CONCURRENCY`: concurrent workers (default 50).
//! - `BENCH_TENANTS`: spaces (default 100).
//! - `BENCH_DB_CONNECTIONS`: each server's PostgreSQL pool size (default: the harness's, 8).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::bench::{env_number, ms, percentile, report_path};
use spaces_tests::fixtures::{self, Campus, unique};
use spaces_tests::{Backend, TestApp};

const DEFAULT_SECS: f64 = 15.0;
const DEFAULT_WARMUP_SECS: f64 = 2.0;
const DEFAULT_ROUND_SECS: f64 = 6.0;
const DEFAULT_ROUNDS: usize = 4;
const DEFAULT_CONCURRENCY: usize = 50;
const DEFAULT_TENANTS: usize = 100;
/// Admins' access tokens last 15 minutes; seeding plus the run must fit well inside.
const MAX_SECS: f64 = 600.0;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ERRORS: usize = 3;
/// Sequential enrolments per server whose SQL statements are counted before the load.
const COUNTED_ENROLMENTS: u64 = 10;

const ISSUE: &str = "mutation($i: IssueInvoiceInput!) { issueInvoice(input: $i) { id number } }";
const ENROL: &str = "mutation($i: EnrolInput!) { enrol(input: $i) { id status } }";
const CREATE_PLAN: &str = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { id } }";
const SELL: &str = "mutation($i: SellSubscriptionInput!) { sellSubscription(input: $i) { subscription { seats status } } }";

struct Settings {
    secs: f64,
    warmup_secs: f64,
    round_secs: f64,
    rounds: usize,
    concurrency: usize,
    tenants: usize,
    db_connections: Option<u32>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let s = Self {
            secs: env_number("BENCH_SECS")?.unwrap_or(DEFAULT_SECS),
            warmup_secs: env_number("BENCH_WARMUP_SECS")?.unwrap_or(DEFAULT_WARMUP_SECS),
            round_secs: env_number("BENCH_ROUND_SECS")?.unwrap_or(DEFAULT_ROUND_SECS),
            rounds: env_number("BENCH_ROUNDS")?.unwrap_or(DEFAULT_ROUNDS),
            concurrency: env_number("BENCH_CONCURRENCY")?.unwrap_or(DEFAULT_CONCURRENCY),
            tenants: env_number("BENCH_TENANTS")?.unwrap_or(DEFAULT_TENANTS),
            db_connections: env_number("BENCH_DB_CONNECTIONS")?,
        };
        ensure!(
            s.secs > 0.0 && s.round_secs > 0.0 && s.warmup_secs >= 0.0,
            "BENCH_SECS and BENCH_ROUND_SECS must be positive, BENCH_WARMUP_SECS not negative"
        );
        let total =
            2.0 * (s.secs + s.warmup_secs) + s.rounds as f64 * 2.0 * (s.round_secs + s.warmup_secs);
        ensure!(
            total <= MAX_SECS,
            "the run would take {total} s, more than {MAX_SECS} (access tokens last 15 minutes)"
        );
        ensure!(s.rounds >= 1, "BENCH_ROUNDS must be at least 1");
        ensure!(
            (1..=4096).contains(&s.concurrency),
            "BENCH_CONCURRENCY must be 1 to 4096"
        );
        ensure!(s.tenants >= 1, "BENCH_TENANTS must be at least 1");
        ensure!(
            s.db_connections.is_none_or(|n| n > 0),
            "BENCH_DB_CONNECTIONS must be positive"
        );
        Ok(s)
    }
}

/// A seeded space: its admin, the billing account of its root, a company and an included edition.
struct Space {
    campus: Campus,
    authorization: String,
    buyer: String,
    company: String,
    edition: String,
}

#[derive(Default)]
struct WorkerStats {
    latencies_us: Vec<u32>,
    errors: u64,
    samples: Vec<String>,
}

/// What a phase measured.
struct Phase {
    name: String,
    secs: f64,
    ok: u64,
    errors: u64,
    samples: Vec<String>,
    per_sec: f64,
    p50: u32,
    p90: u32,
    p99: u32,
    max: u32,
}

impl Phase {
    fn of(name: &str, stats: Vec<WorkerStats>, elapsed: Duration) -> Self {
        let errors = stats.iter().map(|w| w.errors).sum();
        let samples = stats
            .iter()
            .flat_map(|w| w.samples.iter().cloned())
            .take(KEEP_ERRORS)
            .collect();
        let mut lat: Vec<u32> = stats.into_iter().flat_map(|w| w.latencies_us).collect();
        lat.sort_unstable();
        let secs = elapsed.as_secs_f64();
        Self {
            name: name.to_owned(),
            secs,
            ok: lat.len() as u64,
            errors,
            samples,
            per_sec: lat.len() as f64 / secs,
            p50: percentile(&lat, 50.0),
            p90: percentile(&lat, 90.0),
            p99: percentile(&lat, 99.0),
            max: lat.last().copied().unwrap_or(0),
        }
    }

    fn print(&self) {
        println!(
            "  {:<34} {:>8.1}/s  ok {:>6}  errors {:>3}  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            self.name,
            self.per_sec,
            self.ok,
            self.errors,
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        );
        for s in &self.samples {
            println!("    error: {s}");
        }
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name, "measured_secs": self.secs, "ok": self.ok, "errors": self.errors,
            "error_samples": self.samples, "per_sec": self.per_sec,
            "latency_us": { "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max },
        })
    }
}

/// One POST /graphql; the answer's `data` if HTTP 200 without errors.
async fn post(
    client: &reqwest::Client,
    url: &str,
    space: &Space,
    query: &str,
    variables: Value,
) -> Result<Value, String> {
    let resp = client
        .post(url)
        .header("X-Tenant", &space.campus.slug)
        .header("Authorization", &space.authorization)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = resp.status();
    let mut v: Value = resp
        .json()
        .await
        .map_err(|e| format!("HTTP {status}, body: {e}"))?;
    if !status.is_success() || v.get("errors").is_some() {
        return Err(format!("HTTP {status}: {v}"));
    }
    Ok(v["data"].take())
}

/// Closed loop: each worker sends its next request as soon as the last one answered, until the
/// deadline. `op(seq)` is one request (`seq` counts the phase's requests from 0).
async fn run_phase<F, Fut>(
    concurrency: usize,
    duration: Duration,
    op: F,
) -> anyhow::Result<(Vec<WorkerStats>, Duration)>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (op, next) = (op.clone(), next.clone());
        set.spawn(async move {
            let mut stats = WorkerStats::default();
            while Instant::now() < deadline {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                match op(seq).await {
                    Ok(()) => stats
                        .latencies_us
                        .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Err(e) => {
                        stats.errors += 1;
                        if stats.samples.len() < KEEP_ERRORS {
                            stats.samples.push(e);
                        }
                    }
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

/// A warm-up (errors counted into `warm_errors`) then the measured run.
async fn measure<F, Fut>(
    name: &str,
    settings: &Settings,
    secs: f64,
    warm_errors: &mut u64,
    op: F,
) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    if settings.warmup_secs > 0.0 {
        let (warm, _) = run_phase(
            settings.concurrency,
            Duration::from_secs_f64(settings.warmup_secs),
            op.clone(),
        )
        .await?;
        let errs: u64 = warm.iter().map(|w| w.errors).sum();
        if errs > 0 {
            eprintln!("billing bench: {errs} errors during the warm-up of {name}");
            for s in warm.iter().flat_map(|w| &w.samples).take(KEEP_ERRORS) {
                eprintln!("  {s}");
            }
        }
        *warm_errors += errs;
    }
    let (stats, elapsed) =
        run_phase(settings.concurrency, Duration::from_secs_f64(secs), op).await?;
    let phase = Phase::of(name, stats, elapsed);
    phase.print();
    Ok(phase)
}

async fn seed_space(
    app: Arc<TestApp>,
    op: String,
    course: String,
    plan: String,
) -> anyhow::Result<Space> {
    let campus = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &campus, &campus.root_id).await;
    let company = fixtures::company(&app, &campus, "Durand").await;
    let edition = fixtures::open_edition(&app, &campus, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&campus.slug),
            Some(&campus.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { includedInSubscription } }",
            json!({ "id": edition, "i": { "includedInSubscription": true } }),
        )
        .await;
    ensure!(
        ok(&v)["updateEdition"]["includedInSubscription"] == true,
        "edition not included: {v}"
    );
    // A free plan: the sale issues no invoice, so the invoice series is the bench's alone.
    let today = app.state.deps.clock.today();
    let v = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": campus.id, "planId": plan, "startsOn": today, "billingAccountId": buyer } }),
        )
        .await;
    ensure!(
        ok(&v)["sellSubscription"]["subscription"]["status"] == "ACTIVE",
        "sale not active: {v}"
    );
    Ok(Space {
        authorization: format!("Bearer {}", campus.admin_token),
        campus,
        buyer,
        company,
        edition,
    })
}

async fn seed(app: &Arc<TestApp>, tenants: usize) -> anyhow::Result<Vec<Space>> {
    let op = fixtures::operator(app).await;
    let course = fixtures::published_course(app, &op, "Billing bench").await;
    let v = app
        .gql(
            None,
            Some(&op),
            CREATE_PLAN,
            json!({ "i": { "name": unique("Bench "), "seats": 1_000_000, "price": { "amountMinor": 0, "currency": "EUR" }, "vatBasisPoints": 2000 } }),
        )
        .await;
    let plan = ok(&v)["createPlan"]["id"]
        .as_str()
        .context("no plan id")?
        .to_owned();
    let mut spaces = Vec::with_capacity(tenants);
    // A few spaces at a time: each signs its admin in (one password hash).
    for chunk in (0..tenants).collect::<Vec<_>>().chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for _ in chunk {
            set.spawn(seed_space(
                app.clone(),
                op.clone(),
                course.clone(),
                plan.clone(),
            ));
        }
        while let Some(r) = set.join_next().await {
            spaces.push(r.context("seeding a space")??);
        }
    }
    Ok(spaces)
}

/// Issues one invoice of one 100.00 EUR line at 20 % to the space's billing account.
async fn issue(
    client: reqwest::Client,
    url: Arc<str>,
    spaces: Arc<Vec<Space>>,
    issued: Arc<Vec<AtomicU64>>,
    i: usize,
    due: String,
) -> Result<(), String> {
    let s = &spaces[i];
    let data = post(
        &client,
        &url,
        s,
        ISSUE,
        json!({ "i": { "buyerId": s.buyer, "dueDate": due, "lines": [
            { "description": "Platform seats", "quantity": 1, "unitPrice": { "amountMinor": 10000, "currency": "EUR" }, "vatBasisPoints": 2000 }
        ] } }),
    )
    .await?;
    if data["issueInvoice"]["number"].as_str().is_none() {
        return Err(format!("no number: {data}"));
    }
    issued[i].fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Enrols a new learner (by e-mail) into the space's included edition.
async fn enrol(
    client: reqwest::Client,
    url: Arc<str>,
    s: &Space,
    email: String,
) -> Result<(), String> {
    let data = post(
        &client,
        &url,
        s,
        ENROL,
        json!({ "i": { "editionId": s.edition, "email": email, "givenName": "Given", "familyName": "Family", "organisationId": s.company } }),
    )
    .await?;
    if data["enrol"]["status"] != "ACTIVE" {
        return Err(format!("not active: {data}"));
    }
    Ok(())
}

/// Every space's invoice numbers are 1..count, and count is what the bench was answered.
async fn check_series(
    app: &TestApp,
    spaces: &[Space],
    issued: &[AtomicU64],
) -> anyhow::Result<(u64, Vec<String>)> {
    let out = app
        .owner_sql(
            "SELECT tenant_id, count(*), count(DISTINCT number), \
             min(substring(number from '([0-9]+)$')::int), max(substring(number from '([0-9]+)$')::int) \
             FROM invoices WHERE number IS NOT NULL GROUP BY tenant_id",
        )
        .await;
    let mut rows: HashMap<String, [u64; 4]> = HashMap::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        ensure!(f.len() == 5, "unexpected psql line {line:?}");
        let n = |i: usize| f[i].trim().parse::<u64>().context("a count");
        rows.insert(f[0].trim().to_owned(), [n(1)?, n(2)?, n(3)?, n(4)?]);
    }
    let mut problems = Vec::new();
    let mut total = 0;
    for (s, answered) in spaces.iter().zip(issued) {
        let answered = answered.load(Ordering::Relaxed);
        total += answered;
        let [count, distinct, min, max] = rows.remove(&s.campus.id).unwrap_or_default();
        if answered > 0 && !(count == answered && distinct == count && min == 1 && max == count) {
            problems.push(format!(
                "{}: answered {answered}, stored {count} ({distinct} distinct), numbers {min}..{max}",
                s.campus.slug
            ));
        }
        if answered == 0 && count > 0 {
            problems.push(format!("{}: answered 0, stored {count}", s.campus.slug));
        }
    }
    for (tenant, r) in rows {
        problems.push(format!("unexpected invoices in {tenant}: {r:?}"));
    }
    Ok((total, problems))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// SQL statements per enrolment on `app`, over a few sequential enrolments.
async fn statements_per_enrolment(
    app: &TestApp,
    client: &reqwest::Client,
    url: &Arc<str>,
    s: &Space,
    tag: &str,
) -> anyhow::Result<f64> {
    // One first, so the space's directory entry and the pool are warm.
    enrol(
        client.clone(),
        url.clone(),
        s,
        format!("{}@count.test", unique(tag)),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let before = app.state.deps.db.statements_run();
    for _ in 0..COUNTED_ENROLMENTS {
        enrol(
            client.clone(),
            url.clone(),
            s,
            format!("{}@count.test", unique(tag)),
        )
        .await
        .map_err(anyhow::Error::msg)?;
    }
    Ok((app.state.deps.db.statements_run() - before) as f64 / COUNTED_ENROLMENTS as f64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Arc::new(Settings::from_env()?);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let db_connections = settings.db_connections;
    // No mail is read and no job is due here: the workers would only add their load.
    let quiet = move |config: &mut spaces_gateway::Config| {
        config.outbox_interval = Duration::from_secs(3600);
        config.jobs_interval = Duration::from_secs(3600);
        if let Some(n) = db_connections {
            config.db_max_connections = n;
        }
    };

    eprintln!("billing bench: starting PostgreSQL, Redis and the server …");
    let app = TestApp::start_with(Backend::Postgres, quiet).await;
    ensure!(
        app.base.starts_with("http://127.0.0.1:"),
        "the server is not on 127.0.0.1: {}",
        app.base
    );
    // The same database and signing key through a second server whose admission lets everyone in.
    let shared_url = app.server_url().await;
    let key = app.data_dir.join("signing-key.pem");
    ensure!(key.exists(), "no signing key at {}", key.display());
    let ungated = TestApp::start_with_gate(
        Backend::Postgres,
        move |config| {
            quiet(config);
            config.database_url = shared_url;
            config.signing_key_file = Some(key);
        },
        Arc::new(spaces_tenants::enrolments::NoGate),
    )
    .await;
    let pool = app.state.config.db_max_connections;
    let app = Arc::new(app);

    let t = Instant::now();
    eprintln!(
        "billing bench: seeding {} spaces (admin, billing account, company, included edition, subscription) …",
        settings.tenants
    );
    let spaces = Arc::new(seed(&app, settings.tenants).await?);
    eprintln!(
        "billing bench: seeded in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(settings.concurrency)
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let url: Arc<str> = Arc::from(format!("{}/graphql", app.base));
    let ungated_url: Arc<str> = Arc::from(format!("{}/graphql", ungated.base));
    let due = (app.state.deps.clock.now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let issued: Arc<Vec<AtomicU64>> =
        Arc::new((0..spaces.len()).map(|_| AtomicU64::new(0)).collect());
    let mut warm_errors = 0;

    println!();
    println!(
        "billing on PostgreSQL (RLS) + Redis, closed loop over HTTP (127.0.0.1), {} workers, {} cores, db pool {} per server, {} spaces",
        settings.concurrency,
        cores,
        pool,
        spaces.len()
    );

    // 1. Invoices: spread (consecutive requests address different spaces), then one space.
    let n = spaces.len();
    let op = {
        let (client, url, spaces, issued, due) = (
            client.clone(),
            url.clone(),
            spaces.clone(),
            issued.clone(),
            due.clone(),
        );
        move |seq: usize| {
            issue(
                client.clone(),
                url.clone(),
                spaces.clone(),
                issued.clone(),
                seq % n,
                due.clone(),
            )
        }
    };
    let spread = measure(
        &format!("issueInvoice over {n} spaces"),
        &settings,
        settings.secs,
        &mut warm_errors,
        op,
    )
    .await?;
    let op = {
        let (client, url, spaces, issued, due) = (
            client.clone(),
            url.clone(),
            spaces.clone(),
            issued.clone(),
            due.clone(),
        );
        move |_| {
            issue(
                client.clone(),
                url.clone(),
                spaces.clone(),
                issued.clone(),
                0,
                due.clone(),
            )
        }
    };
    let hot = measure(
        "issueInvoice, all in one space",
        &settings,
        settings.secs,
        &mut warm_errors,
        op,
    )
    .await?;
    let (total_issued, gaps) = check_series(&app, &spaces, &issued).await?;
    println!(
        "  invoice numbers: {total_issued} issued, {} spaces checked 1..N: {}",
        spaces.len(),
        if gaps.is_empty() {
            "no gap, no surplus".to_owned()
        } else {
            format!("{} PROBLEMS", gaps.len())
        }
    );
    for g in gaps.iter().take(5) {
        println!("    {g}");
    }

    // 2. Enrolment with billing's gate and without it, on the same data, in paired rounds.
    let gated_statements =
        statements_per_enrolment(&app, &client, &url, &spaces[0], "gated").await?;
    let ungated_statements =
        statements_per_enrolment(&ungated, &client, &ungated_url, &spaces[0], "ungated").await?;
    println!(
        "  SQL statements per enrol (sequential, incl. BEGIN/COMMIT): billing gate {gated_statements:.1}, NoGate {ungated_statements:.1}"
    );
    let learner = Arc::new(AtomicU64::new(0));
    let mut rounds = Vec::with_capacity(settings.rounds);
    for r in 1..=settings.rounds {
        let mut pair = Vec::with_capacity(2);
        // Alternate which goes first, so neither always meets the fuller tables or the drift.
        let mut order = [(0, "billing gate", &url), (1, "NoGate", &ungated_url)];
        if r % 2 == 0 {
            order.reverse();
        }
        for (slot, label, url) in order {
            let op = {
                let (client, url, spaces, learner) =
                    (client.clone(), url.clone(), spaces.clone(), learner.clone());
                move |seq: usize| {
                    let (client, url, spaces) = (client.clone(), url.clone(), spaces.clone());
                    let email = format!("l{}@bench.test", learner.fetch_add(1, Ordering::Relaxed));
                    async move { enrol(client, url, &spaces[seq % n], email).await }
                }
            };
            pair.push((
                slot,
                measure(
                    &format!("enrol, round {r}, {label}"),
                    &settings,
                    settings.round_secs,
                    &mut warm_errors,
                    op,
                )
                .await?,
            ));
        }
        pair.sort_by_key(|(slot, _)| *slot);
        rounds.push(pair.into_iter().map(|(_, p)| p).collect::<Vec<_>>());
    }
    // What the seat count costs once the load has filled the tables (as the owner: no RLS).
    let tenant = &spaces[0].campus.id;
    let plan = app
        .owner_sql(&format!(
            "EXPLAIN (ANALYZE) SELECT COUNT(DISTINCT e.person_id) FROM enrolments e \
             JOIN editions d ON d.tenant_id = e.tenant_id AND d.id = e.edition_id \
             JOIN people p ON p.tenant_id = e.tenant_id AND p.id = e.person_id \
             WHERE e.tenant_id = '{tenant}' AND d.included_in_subscription \
             AND e.status IN ('pending_approval', 'active') AND p.status <> 'disabled'"
        ))
        .await;
    let enrolments = app
        .owner_sql(&format!(
            "SELECT count(*) FROM enrolments WHERE tenant_id = '{tenant}'"
        ))
        .await;
    let count_ms = plan
        .lines()
        .find_map(|l| l.trim().strip_prefix("Execution Time: "))
        .unwrap_or("?")
        .to_owned();
    println!(
        "  seat count after the rounds, one space ({} enrolments): {count_ms}",
        enrolments.trim()
    );
    for l in plan
        .lines()
        .filter(|l| l.contains("Scan") || l.contains("Join"))
    {
        println!("    {}", l.trim_end());
    }
    let ratios: Vec<f64> = rounds.iter().map(|p| p[0].per_sec / p[1].per_sec).collect();
    let ratio = median(ratios.clone());
    let sum = |i: usize| rounds.iter().map(|p| p[i].ok).sum::<u64>() as f64;
    let secs = |i: usize| rounds.iter().map(|p| p[i].secs).sum::<f64>();
    let (gated_rate, ungated_rate) = (sum(0) / secs(0), sum(1) / secs(1));
    println!(
        "  enrol ratio, gated / NoGate: rounds {}, median {ratio:.3} (all rounds: {gated_rate:.1}/s against {ungated_rate:.1}/s, {:.3}); target >= 0.8: {}",
        ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        gated_rate / ungated_rate,
        if ratio >= 0.8 { "met" } else { "NOT met" }
    );

    let phases: Vec<&Phase> = [&spread, &hot]
        .into_iter()
        .chain(rounds.iter().flatten())
        .collect();
    let errors: u64 = phases.iter().map(|p| p.errors).sum::<u64>() + warm_errors;
    println!("  errors (warm-ups included): {errors}");
    let report = json!({
        "bench": "billing",
        "at": chrono::Utc::now().to_rfc3339(),
        "backend": "postgres",
        "concurrency": settings.concurrency,
        "cores": cores,
        "db_max_connections": pool,
        "tenants": spaces.len(),
        "warmup_secs": settings.warmup_secs,
        "invoices": {
            "via": "GraphQL issueInvoice",
            "spread": spread.json(),
            "one_space": hot.json(),
            "issued_total": total_issued,
            "series_problems": gaps,
        },
        "enrolment": {
            "via": "GraphQL enrol (new learner by e-mail, included edition)",
            "statements_per_enrol": { "gated": gated_statements, "ungated": ungated_statements },
            "seat_count_after_load": { "enrolments_in_space": enrolments.trim(), "execution_time": count_ms, "plan": plan },
            "rounds": rounds.iter().map(|p| json!({ "gated": p[0].json(), "ungated": p[1].json() })).collect::<Vec<_>>(),
            "ratios": ratios,
            "ratio_median": ratio,
            "gated_per_sec": gated_rate,
            "ungated_per_sec": ungated_rate,
        },
        "errors": errors,
    });
    let path = report_path("bench-billing.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("  json: {}", path.display());

    drop(spaces);
    ungated.stop().await;
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => bail!("the app is still shared after the run"),
    }
    ensure!(errors == 0, "{errors} requests failed");
    ensure!(gaps.is_empty(), "invoice series with gaps or surplus");
    Ok(())
}
