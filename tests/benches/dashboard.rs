//! Load benchmark: the learner dashboard (`viewer { enrolments }`) over HTTP against PostgreSQL
//! with RLS, beside a hand-written handler that answers the same data.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench dashboard`.
//!
//! 1. Starts the real server on 127.0.0.1 port 0 against a throwaway PostgreSQL cluster (the
//!    server connects as a non-owner role, row-level security forced) and seeds it as the owner
//!    with set-based SQL: spaces × learners × enrolments, with editions of published courses,
//!    three modules per edition (two required) and module progress rows.
//! 2. Starts, in the same process and on another loopback port, a bench-only axum handler that
//!    answers the same JSON for the same bearer token with one hand-written SQL statement inside
//!    the same kind of tenant transaction (verify the token with the server's keys, BEGIN,
//!    `set_config('app.tenant_id', …, true)`, SELECT, COMMIT) on its own pool of the same size,
//!    connected as the same role. Both answers are compared for a sample of learners first.
//! 3. For each target: a closed-loop probe estimates the maximum throughput, then open-loop steps
//!    at fixed request rates (a request is started every 1/rate s whatever the answers, each for a
//!    random sampled learner) search the saturation rate: the highest rate whose step had no
//!    error, nothing shed, and achieved at least 95% of the offered rate. Finally Spaces runs at
//!    half its saturation rate (and the hand-written handler at the same rate, for reference),
//!    latency measured from each request's scheduled start.
//!
//! Prints a table and writes the figures as JSON to `target/bench-dashboard.json`.
//!
//! Environment (all optional):
//! - `BENCH_TENANTS`, `BENCH_LEARNERS`, `BENCH_ENROLMENTS`: the scale (default 100 × 1000 × 5;
//!   a quick run: 5 × 100 × 5).
//! - `BENCH_SAMPLE`: learners given a token and drawn at random by the load (default 5000).
//! - `BENCH_SECS`: the measured run at half saturation, seconds (default 10).
//! - `BENCH_STEP_SECS`: each open-loop step of the search, seconds (default 5).
//! - `BENCH_WARMUP_SECS`: closed-loop warm-up per target, not measured (default 2).
//! - `BENCH_PROBE_SECS`: closed-loop probe per target (default 3).
//! - `BENCH_CONCURRENCY`: workers of the closed-loop warm-up and probe (default 64).
//! - `BENCH_BISECT`: bisection steps of the saturation search (default 4).
//! - `BENCH_ROUNDS`: paired closed-loop rounds at the end, Spaces then hand-written, each lasting
//!   `BENCH_PROBE_SECS` (default 6; 0 skips them).
//! - `BENCH_MAX_IN_FLIGHT`: open-loop requests in flight before new ones are shed (default 1024).
//! - `BENCH_DB_CONNECTIONS`: pool size of the server and of the hand-written handler (default:
//!   the harness's, 8).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};
use spaces_tenants::auth::tokens::{Bearer, Keys, unix_now};
use spaces_tenants::{PersonId, TenantId};
use spaces_tests::bench::{env_number, ms, percentile, report_path};
use spaces_tests::{Backend, TestApp};
use tokio::task::JoinSet;

const DASHBOARD: &str = "{ viewer { enrolments(first: 100) { edges { node { status dueOn edition { title startsOn course { title eqfLevel ects } } progress { requiredDone requiredTotal percent } } } } } }";

const DEFAULT_TENANTS: usize = 100;
const DEFAULT_LEARNERS: usize = 1000;
const DEFAULT_ENROLMENTS: usize = 5;
const DEFAULT_SAMPLE: usize = 5000;
const DEFAULT_SECS: f64 = 10.0;
const DEFAULT_STEP_SECS: f64 = 5.0;
const DEFAULT_WARMUP_SECS: f64 = 2.0;
const DEFAULT_PROBE_SECS: f64 = 3.0;
const DEFAULT_CONCURRENCY: usize = 64;
const DEFAULT_BISECT: usize = 4;
const DEFAULT_ROUNDS: usize = 6;
const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
/// Editions per space; at least the enrolments per learner, so each learner's are distinct.
const MIN_EDITIONS: usize = 10;
const COURSES: usize = 8;
const PROVIDERS: usize = 2;
/// The dashboard pages 100 enrolments at most.
const MAX_ENROLMENTS: usize = 100;
/// A step passes when it achieved at least this share of the offered rate.
const PASS_SHARE: f64 = 0.95;
/// A request taking longer than this counts as an error (and keeps every loop bounded).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Steps tried above the first passing rate before giving up on finding a failing one.
const MAX_UP_STEPS: usize = 6;
/// Below this rate the search gives up (something is broken, not slow).
const MIN_RATE: f64 = 5.0;
const PAUSE_BETWEEN_STEPS: Duration = Duration::from_secs(1);
/// Learners whose two answers are compared before any load.
const COMPARE: usize = 20;
const KEEP_ERRORS: usize = 3;
/// The whole run must fit well inside the access tokens' lifetime (set to an hour here).
const TOKEN_TTL: Duration = Duration::from_secs(3600);
const MAX_LOAD_SECS: f64 = 2400.0;

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
    tenants: usize,
    learners: usize,
    enrolments: usize,
    sample: usize,
    secs: f64,
    step_secs: f64,
    warmup_secs: f64,
    probe_secs: f64,
    concurrency: usize,
    bisect: usize,
    rounds: usize,
    max_in_flight: usize,
    db_connections: Option<u32>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let s = Self {
            tenants: env_number("BENCH_TENANTS")?.unwrap_or(DEFAULT_TENANTS),
            learners: env_number("BENCH_LEARNERS")?.unwrap_or(DEFAULT_LEARNERS),
            enrolments: env_number("BENCH_ENROLMENTS")?.unwrap_or(DEFAULT_ENROLMENTS),
            sample: env_number("BENCH_SAMPLE")?.unwrap_or(DEFAULT_SAMPLE),
            secs: env_number("BENCH_SECS")?.unwrap_or(DEFAULT_SECS),
            step_secs: env_number("BENCH_STEP_SECS")?.unwrap_or(DEFAULT_STEP_SECS),
            warmup_secs: env_number("BENCH_WARMUP_SECS")?.unwrap_or(DEFAULT_WARMUP_SECS),
            probe_secs: env_number("BENCH_PROBE_SECS")?.unwrap_or(DEFAULT_PROBE_SECS),
            concurrency: env_number("BENCH_CONCURRENCY")?.unwrap_or(DEFAULT_CONCURRENCY),
            bisect: env_number("BENCH_BISECT")?.unwrap_or(DEFAULT_BISECT),
            rounds: env_number("BENCH_ROUNDS")?.unwrap_or(DEFAULT_ROUNDS),
            max_in_flight: env_number("BENCH_MAX_IN_FLIGHT")?.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            db_connections: env_number("BENCH_DB_CONNECTIONS")?,
        };
        ensure!(
            (1..=10_000).contains(&s.tenants),
            "BENCH_TENANTS must be 1 to 10000"
        );
        ensure!(
            (1..=100_000).contains(&s.learners),
            "BENCH_LEARNERS must be 1 to 100000"
        );
        ensure!(
            (1..=MAX_ENROLMENTS).contains(&s.enrolments),
            "BENCH_ENROLMENTS must be 1 to {MAX_ENROLMENTS} (the dashboard pages 100)"
        );
        ensure!(s.sample >= 1, "BENCH_SAMPLE must be positive");
        ensure!(
            s.secs > 0.0 && s.step_secs > 0.0 && s.probe_secs > 0.0 && s.warmup_secs >= 0.0,
            "BENCH_SECS, BENCH_STEP_SECS and BENCH_PROBE_SECS must be positive, \
             BENCH_WARMUP_SECS not negative"
        );
        ensure!(
            (1..=4096).contains(&s.concurrency),
            "BENCH_CONCURRENCY must be 1 to 4096"
        );
        ensure!((0..=10).contains(&s.bisect), "BENCH_BISECT must be 0 to 10");
        ensure!(
            (1..=16_384).contains(&s.max_in_flight),
            "BENCH_MAX_IN_FLIGHT must be 1 to 16384"
        );
        ensure!(
            s.db_connections.is_none_or(|n| n > 0),
            "BENCH_DB_CONNECTIONS must be positive"
        );
        // Worst case per target: warm-up, probe, the steps (each drains within the timeout), the
        // measured run; all of it inside the tokens' lifetime.
        let steps = (2 + MAX_UP_STEPS + s.bisect) as f64;
        let worst = 2.0
            * (s.warmup_secs
                + s.probe_secs
                + steps
                    * (s.step_secs
                        + REQUEST_TIMEOUT.as_secs_f64()
                        + PAUSE_BETWEEN_STEPS.as_secs_f64())
                + s.secs)
            + s.rounds as f64 * 2.0 * (s.probe_secs + PAUSE_BETWEEN_STEPS.as_secs_f64());
        ensure!(
            worst <= MAX_LOAD_SECS,
            "the load phases could last {worst:.0} s, over {MAX_LOAD_SECS} s: shorten \
             BENCH_STEP_SECS, BENCH_SECS or BENCH_BISECT"
        );
        Ok(s)
    }

    fn editions(&self) -> usize {
        self.enrolments.max(MIN_EDITIONS)
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding, as the database owner, set-based. Ids are md5 of a readable key cast to uuid, so every
// table is one INSERT … SELECT over generate_series with no lookups.

struct Seeded {
    secs: f64,
    tables: Vec<(&'static str, f64)>,
    counts: Value,
}

fn seed_sql(s: &Settings) -> Vec<(&'static str, String)> {
    let (t, l, k, e) = (s.tenants, s.learners, s.enrolments, s.editions());
    vec![
        (
            "tenants",
            format!(
                "INSERT INTO tenants (id, slug, display_name, status, created_at, updated_at) \
                 SELECT md5('t.' || t)::uuid, 'bench-' || t, 'Bench space ' || t, 'active', now(), now() \
                 FROM generate_series(1, {t}) t"
            ),
        ),
        (
            "organisations",
            format!(
                "INSERT INTO organisations (tenant_id, id, parent_id, kind, name, path, created_at) \
                 SELECT md5('t.' || t)::uuid, md5('o.' || t)::uuid, NULL, 'root', 'Bench space ' || t, \
                        '/' || md5('o.' || t)::uuid::text || '/', now() \
                 FROM generate_series(1, {t}) t"
            ),
        ),
        (
            "people",
            format!(
                "INSERT INTO people (tenant_id, id, email, given_name, family_name, organisation_id, \
                                     password_hash, status, token_version, created_at) \
                 SELECT md5('t.' || t)::uuid, md5('p.' || t || '.' || i)::uuid, \
                        'learner' || i || '@bench-' || t || '.test', 'Learner', 'No ' || i, \
                        md5('o.' || t)::uuid, NULL, 'active', 0, now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {l}) i"
            ),
        ),
        (
            "role_grants",
            format!(
                "INSERT INTO role_grants (tenant_id, id, person_id, organisation_id, role, created_at) \
                 SELECT md5('t.' || t)::uuid, md5('g.' || t || '.' || i)::uuid, \
                        md5('p.' || t || '.' || i)::uuid, md5('o.' || t)::uuid, 'learner', now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {l}) i"
            ),
        ),
        (
            "providers",
            format!(
                "INSERT INTO providers (id, name, country, website, created_at) \
                 SELECT md5('v.' || v)::uuid, 'Bench University ' || v, 'FR', NULL, now() \
                 FROM generate_series(1, {PROVIDERS}) v"
            ),
        ),
        (
            "courses",
            format!(
                "INSERT INTO courses (id, provider_id, title, summary, language, study_minutes, \
                                      ects_halves, eqf_level, learning_outcomes, assessment, status, \
                                      published_at, created_at, updated_at) \
                 SELECT md5('c.' || c)::uuid, md5('v.' || (1 + c % {PROVIDERS}))::uuid, \
                        'Bench course ' || c, 'What bench course ' || c || ' teaches.', 'fr', \
                        600 + 60 * c, 2 + c, 1 + c % 8, '[]', 'online_unverified', 'published', \
                        now(), now(), now() \
                 FROM generate_series(1, {COURSES}) c"
            ),
        ),
        (
            // Even editions have their own title, odd ones show the course's; every fifth has no
            // start date.
            "editions",
            format!(
                "INSERT INTO editions (tenant_id, id, course_id, title, description, starts_on, ends_on, \
                                       enrolment_mode, visibility, included_in_subscription, status, \
                                       created_at, updated_at) \
                 SELECT md5('t.' || t)::uuid, md5('e.' || t || '.' || n)::uuid, \
                        md5('c.' || (1 + (t + n) % {COURSES}))::uuid, \
                        CASE WHEN n % 2 = 0 THEN 'Edition ' || n || ' of space ' || t END, NULL, \
                        CASE WHEN n % 5 <> 0 THEN date '2026-09-01' + 7 * n END, NULL, \
                        'assigned_only', 'whole_tenant', true, 'open', now(), now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {e}) n"
            ),
        ),
        (
            // Modules 1 and 2 are required, 3 is optional.
            "edition_modules",
            format!(
                "INSERT INTO edition_modules (tenant_id, id, edition_id, position, title, required, \
                                              estimated_minutes, activity_iri, created_at) \
                 SELECT md5('t.' || t)::uuid, md5('m.' || t || '.' || n || '.' || m)::uuid, \
                        md5('e.' || t || '.' || n)::uuid, m - 1, 'Module ' || m, m <= 2, 30 * m, \
                        'https://lms.bench.test/xapi/' || t || '/' || n || '/m' || m, now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {e}) n, generate_series(1, 3) m"
            ),
        ),
        (
            // Learner i's k-th enrolment is in edition 1 + (i + k) mod E: distinct since K <= E.
            "enrolments",
            format!(
                "INSERT INTO enrolments (tenant_id, id, edition_id, person_id, status, source, due_on, \
                                         enrolled_by, created_at, updated_at) \
                 SELECT md5('t.' || t)::uuid, md5('n.' || t || '.' || i || '.' || k)::uuid, \
                        md5('e.' || t || '.' || (1 + (i + k) % {e}))::uuid, \
                        md5('p.' || t || '.' || i)::uuid, 'active', 'assigned', \
                        CASE WHEN k <> 4 THEN date '2027-01-01' + (i + 7 * k) % 120 END, NULL, \
                        now(), now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {l}) i, generate_series(0, {k} - 1) k"
            ),
        ),
        (
            // 0 to 3 progress rows per enrolment (1.5 on average), the optional module among
            // them; one in five learners has started module 2 without completing it.
            "module_progress",
            format!(
                "INSERT INTO module_progress (tenant_id, id, enrolment_id, module_id, completed_at, \
                                              score, updated_at) \
                 SELECT md5('t.' || t)::uuid, md5('r.' || t || '.' || i || '.' || k || '.' || m)::uuid, \
                        md5('n.' || t || '.' || i || '.' || k)::uuid, \
                        md5('m.' || t || '.' || (1 + (i + k) % {e}) || '.' || m)::uuid, \
                        CASE WHEN m = 2 AND (i + k) % 5 = 0 THEN NULL ELSE now() END, NULL, now() \
                 FROM generate_series(1, {t}) t, generate_series(1, {l}) i, \
                      generate_series(0, {k} - 1) k, generate_series(1, 3) m \
                 WHERE m <= (i + 3 * k) % 4"
            ),
        ),
        ("vacuum analyze", "VACUUM (ANALYZE)".to_owned()),
        // Writes the seed out now, so a timed checkpoint does not land inside a measured step.
        ("checkpoint", "CHECKPOINT".to_owned()),
    ]
}

/// Runs SQL as the owner in the app's database (psql, off the async threads).
async fn owner_sql(app: &TestApp, sql: String) -> anyhow::Result<String> {
    let db = app
        .database
        .clone()
        .context("the benchmark needs the PostgreSQL backend")?;
    let shared = spaces_tests::app::shared().await;
    tokio::task::spawn_blocking(move || shared.pg.psql(&db, &sql))
        .await
        .context("psql task")?
}

async fn seed(app: &TestApp, s: &Settings) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let mut tables = Vec::new();
    for (name, sql) in seed_sql(s) {
        let t = Instant::now();
        owner_sql(app, sql)
            .await
            .with_context(|| format!("seeding {name}"))?;
        let secs = t.elapsed().as_secs_f64();
        eprintln!("dashboard bench:   {name:<16} {secs:6.1} s");
        tables.push((name, secs));
    }
    let secs = started.elapsed().as_secs_f64();
    let out = owner_sql(
        app,
        "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM people), \
                (SELECT count(*) FROM editions), (SELECT count(*) FROM edition_modules), \
                (SELECT count(*) FROM enrolments), (SELECT count(*) FROM module_progress), \
                pg_database_size(current_database())"
            .to_owned(),
    )
    .await?;
    let n: Vec<u64> = out
        .trim()
        .split('|')
        .map(|x| x.parse().context("a count"))
        .collect::<anyhow::Result<_>>()?;
    ensure!(n.len() == 7, "unexpected counts: {out}");
    let expected = (s.tenants * s.learners * s.enrolments) as u64;
    ensure!(
        n[4] == expected,
        "seeded {} enrolments, expected {expected}",
        n[4]
    );
    Ok(Seeded {
        secs,
        tables,
        counts: json!({
            "tenants": n[0], "people": n[1], "editions": n[2], "edition_modules": n[3],
            "enrolments": n[4], "module_progress": n[5], "database_bytes": n[6],
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// Callers: a random sample of learners, each with a freshly minted access token.

struct Caller {
    slug: String,
    authorization: String,
}

async fn callers(app: &TestApp, s: &Settings) -> anyhow::Result<Vec<Caller>> {
    let out = owner_sql(
        app,
        format!(
            "SELECT t.slug, p.tenant_id, p.id FROM people p JOIN tenants t ON t.id = p.tenant_id \
             ORDER BY md5(p.id::text || '{}') LIMIT {}",
            unix_now(),
            s.sample
        ),
    )
    .await?;
    let keys = &app.state.deps.keys;
    let now = unix_now();
    let mut callers = Vec::with_capacity(s.sample);
    for line in out.lines() {
        let mut parts = line.split('|');
        let (Some(slug), Some(tenant), Some(person), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            bail!("unexpected sample line {line:?}");
        };
        let tenant: TenantId = tenant.parse().context("a tenant id")?;
        let person: PersonId = person.parse().context("a person id")?;
        let (token, _) = keys
            .issue(
                Bearer::Person {
                    tenant,
                    person,
                    version: 0,
                },
                now,
            )
            .map_err(|e| anyhow!("minting a token: {e}"))?;
        callers.push(Caller {
            slug: slug.to_owned(),
            authorization: format!("Bearer {token}"),
        });
    }
    ensure!(!callers.is_empty(), "no learners sampled");
    Ok(callers)
}

// ---------------------------------------------------------------------------------------------
// The hand-written baseline: same token check, same tenant transaction, one SQL statement.

struct Baseline {
    keys: Arc<Keys>,
    db: DatabaseConnection,
}

/// The person must exist, be active and hold the token's version (as the server checks); zero
/// rows means no such person, one row with a NULL enrolment id means no enrolments. Progress
/// counts the edition's current required modules and those this enrolment completed.
const BASELINE_SQL: &str = "\
SELECT e.id, e.status, e.due_on, COALESCE(ed.title, c.title) AS title, ed.starts_on, \
       c.title AS course_title, c.eqf_level, c.ects_halves, \
       (SELECT count(*) FROM edition_modules m \
         WHERE m.tenant_id = e.tenant_id AND m.edition_id = e.edition_id \
           AND m.required AND m.retired_at IS NULL) AS required_total, \
       (SELECT count(*) FROM module_progress mp \
          JOIN edition_modules m ON m.tenant_id = mp.tenant_id AND m.id = mp.module_id \
         WHERE mp.tenant_id = e.tenant_id AND mp.enrolment_id = e.id \
           AND mp.completed_at IS NOT NULL AND m.edition_id = e.edition_id \
           AND m.required AND m.retired_at IS NULL) AS required_done \
  FROM people p \
  LEFT JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.person_id = p.id \
  LEFT JOIN editions ed ON ed.tenant_id = e.tenant_id AND ed.id = e.edition_id \
  LEFT JOIN courses c ON c.id = ed.course_id \
 WHERE p.tenant_id = $1 AND p.id = $2 AND p.status = 'active' AND p.token_version = $3 \
 ORDER BY e.id \
 LIMIT 100";

type Failure = (StatusCode, String);

fn internal(e: impl std::fmt::Display) -> Failure {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn baseline_answer(b: &Baseline, headers: &HeaderMap) -> Result<Value, Failure> {
    let unauthenticated = |m: &str| (StatusCode::UNAUTHORIZED, m.to_owned());
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthenticated("no bearer token"))?;
    let Ok(Bearer::Person {
        tenant,
        person,
        version,
    }) = b.keys.verify(token, unix_now())
    else {
        return Err(unauthenticated("invalid or expired token"));
    };
    let tx = b.db.begin().await.map_err(internal)?;
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true)",
        [tenant.uuid().to_string().into()],
    ))
    .await
    .map_err(internal)?;
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            BASELINE_SQL,
            [tenant.uuid().into(), person.uuid().into(), version.into()],
        ))
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    if rows.is_empty() {
        return Err(unauthenticated("no such active person"));
    }
    let mut edges = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: Option<uuid::Uuid> = r.try_get("", "id").map_err(internal)?;
        if id.is_none() {
            continue;
        }
        let status: String = r.try_get("", "status").map_err(internal)?;
        let due_on: Option<chrono::NaiveDate> = r.try_get("", "due_on").map_err(internal)?;
        let title: String = r.try_get("", "title").map_err(internal)?;
        let starts_on: Option<chrono::NaiveDate> = r.try_get("", "starts_on").map_err(internal)?;
        let course_title: String = r.try_get("", "course_title").map_err(internal)?;
        let eqf_level: i32 = r.try_get("", "eqf_level").map_err(internal)?;
        let ects_halves: i32 = r.try_get("", "ects_halves").map_err(internal)?;
        let total: i64 = r.try_get("", "required_total").map_err(internal)?;
        let done: i64 = r.try_get("", "required_done").map_err(internal)?;
        let percent = if total == 0 { 0 } else { done * 100 / total };
        edges.push(json!({ "node": {
            "status": status.to_ascii_uppercase(),
            "dueOn": due_on,
            "edition": {
                "title": title,
                "startsOn": starts_on,
                "course": {
                    "title": course_title,
                    "eqfLevel": eqf_level,
                    "ects": f64::from(ects_halves) / 2.0,
                },
            },
            "progress": { "requiredDone": done, "requiredTotal": total, "percent": percent },
        }}));
    }
    Ok(json!({ "data": { "viewer": { "enrolments": { "edges": edges } } } }))
}

async fn baseline_handler(State(b): State<Arc<Baseline>>, headers: HeaderMap) -> Response {
    match baseline_answer(&b, &headers).await {
        Ok(v) => Json(v).into_response(),
        Err((status, message)) => {
            (status, Json(json!({ "errors": [{ "message": message }] }))).into_response()
        }
    }
}

struct BaselineServer {
    base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_baseline(app: &TestApp, pool: u32) -> anyhow::Result<BaselineServer> {
    let mut opts = ConnectOptions::new(app.server_url().await);
    // As the server's own pool is configured.
    opts.max_connections(pool)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(opts)
        .await
        .context("connecting the hand-written handler's pool")?;
    let state = Arc::new(Baseline {
        keys: app.state.deps.keys.clone(),
        db,
    });
    let router = axum::Router::new()
        .route("/dashboard", post(baseline_handler))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the hand-written handler")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(BaselineServer {
        base: format!("http://{addr}"),
        shutdown: tx,
        handle,
    })
}

// ---------------------------------------------------------------------------------------------
// Load

#[derive(Clone)]
struct Target {
    name: &'static str,
    url: Arc<str>,
}

/// One request for a caller; `Ok` when it answered `expected` enrolments and no errors.
async fn call(
    client: &reqwest::Client,
    url: &str,
    body: &'static str,
    c: &Caller,
    expected: usize,
) -> Result<(), String> {
    let resp = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Tenant", &c.slug)
        .header("Authorization", &c.authorization)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("body: {e}"))?;
    // Both answers are compact JSON: counting the nodes is enough, and spares the load
    // generator (which shares the machine) a full parse.
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("HTTP {status}: {e}"))?;
    let nodes = text.matches("\"node\":").count();
    if !status.is_success() || text.contains("\"errors\"") || nodes != expected {
        let mut s = text.to_owned();
        s.truncate(300);
        return Err(format!(
            "HTTP {status}, {nodes} of {expected} enrolments: {s}"
        ));
    }
    Ok(())
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    body: &'static str,
    c: &Caller,
) -> anyhow::Result<Value> {
    let resp = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Tenant", &c.slug)
        .header("Authorization", &c.authorization)
        .body(body)
        .send()
        .await?;
    Ok(resp.json().await?)
}

/// splitmix64: a well-mixed index from a seed and a counter, with no shared state.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick(n: usize, seed: u64, i: u64) -> usize {
    (mix(seed, i) % n as u64) as usize
}

#[derive(Clone, Copy, Default)]
struct Latency {
    mean_us: f64,
    p50_us: u32,
    p90_us: u32,
    p99_us: u32,
    max_us: u32,
}

/// Nearest-rank percentile of sorted values.
fn latency(mut lat: Vec<u32>) -> Latency {
    lat.sort_unstable();
    Latency {
        mean_us: if lat.is_empty() {
            0.0
        } else {
            lat.iter().map(|&u| f64::from(u)).sum::<f64>() / lat.len() as f64
        },
        p50_us: percentile(&lat, 50.0),
        p90_us: percentile(&lat, 90.0),
        p99_us: percentile(&lat, 99.0),
        max_us: lat.last().copied().unwrap_or(0),
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

struct Step {
    target: &'static str,
    /// Offered requests/s (open loop), or the workers (closed loop).
    offered: f64,
    closed_loop: bool,
    secs: f64,
    sent: u64,
    ok: u64,
    errors: u64,
    shed: u64,
    /// Successful answers per second, from the first scheduled start to the last answer.
    achieved: f64,
    /// From each request's scheduled start (open loop) or its start (closed loop) to its answer.
    latency: Latency,
    /// From the moment the request was actually started to its answer.
    service: Latency,
    /// How late the generator started requests behind their schedule (p99).
    lag_p99_us: u32,
    samples: Vec<String>,
}

impl Step {
    fn passed(&self) -> bool {
        self.errors == 0 && self.shed == 0 && self.achieved >= PASS_SHARE * self.offered
    }

    fn json(&self) -> Value {
        json!({
            "target": self.target,
            "mode": if self.closed_loop { "closed" } else { "open" },
            "offered_rps": if self.closed_loop { Value::Null } else { json!(self.offered) },
            "workers": if self.closed_loop { json!(self.offered) } else { Value::Null },
            "secs": self.secs,
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "shed": self.shed,
            "achieved_rps": self.achieved,
            "passed": !self.closed_loop && self.passed(),
            "latency_us": {
                "mean": self.latency.mean_us, "p50": self.latency.p50_us,
                "p90": self.latency.p90_us, "p99": self.latency.p99_us, "max": self.latency.max_us,
            },
            "service_latency_us": latency_json(&self.service),
            "generator_lag_p99_us": self.lag_p99_us,
            "error_samples": self.samples,
        })
    }

    fn line(&self) -> String {
        let what = if self.closed_loop {
            format!("closed {:>5} workers", self.offered)
        } else {
            format!("open {:>8.0} req/s", self.offered)
        };
        let verdict = if self.closed_loop {
            ""
        } else if self.passed() {
            "pass"
        } else {
            "FAIL"
        };
        format!(
            "{:<13} {what}  {:>8.1} ok/s  err {:<5} shed {:<5} p50 {:>7.2} ms  p99 {:>8.2} ms  {verdict}",
            self.target,
            self.achieved,
            self.errors,
            self.shed,
            ms(self.latency.p50_us),
            ms(self.latency.p99_us),
        )
    }
}

struct Load {
    client: reqwest::Client,
    body: &'static str,
    callers: Arc<Vec<Caller>>,
    expected: usize,
    max_in_flight: usize,
    seed: u64,
}

/// The answer, the time from the schedule and from the actual start, and when it ended.
type Outcome = (Result<(), String>, Duration, Duration, Instant);

impl Load {
    /// Open loop: request i starts at `start + i / rate` whatever happened to the others, for a
    /// random caller; beyond `max_in_flight` outstanding requests a new one is shed (counted).
    /// Latency runs from the scheduled start, so a late generator cannot hide queueing.
    async fn open(&self, t: &Target, rate: f64, secs: f64) -> anyhow::Result<Step> {
        let total = ((rate * secs).round() as u64).max(1);
        let interval = 1.0 / rate;
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set: JoinSet<Outcome> = JoinSet::new();
        let mut lat = Vec::with_capacity(total as usize);
        let mut service = Vec::with_capacity(total as usize);
        let mut lags = Vec::with_capacity(total as usize);
        let (mut errors, mut shed) = (0u64, 0u64);
        let mut samples = Vec::new();
        let start = Instant::now();
        let mut last = start;
        let seed = mix(self.seed, rate.to_bits());
        let mut record = |r: Result<Outcome, tokio::task::JoinError>,
                          lat: &mut Vec<u32>,
                          service: &mut Vec<u32>,
                          last: &mut Instant|
         -> anyhow::Result<()> {
            let (res, took, served, done) = r.context("a request task panicked")?;
            *last = (*last).max(done);
            match res {
                Ok(()) => {
                    lat.push(micros(took));
                    service.push(micros(served));
                }
                Err(e) => {
                    errors += 1;
                    if samples.len() < KEEP_ERRORS {
                        samples.push(e);
                    }
                }
            }
            Ok(())
        };
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 * interval);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            lags.push(micros(Instant::now().saturating_duration_since(due)));
            while let Some(r) = set.try_join_next() {
                record(r, &mut lat, &mut service, &mut last)?;
            }
            if in_flight.load(std::sync::atomic::Ordering::Relaxed) >= self.max_in_flight {
                shed += 1;
                continue;
            }
            in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (client, url, callers, in_flight) = (
                self.client.clone(),
                t.url.clone(),
                self.callers.clone(),
                in_flight.clone(),
            );
            let (body, expected) = (self.body, self.expected);
            let c = pick(callers.len(), seed, i);
            set.spawn(async move {
                let sent = Instant::now();
                let r = call(&client, &url, body, &callers[c], expected).await;
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                let done = Instant::now();
                (
                    r,
                    done.saturating_duration_since(due),
                    done.saturating_duration_since(sent),
                    done,
                )
            });
        }
        // Every request ends within the client's timeout.
        while let Some(r) = set.join_next().await {
            record(r, &mut lat, &mut service, &mut last)?;
        }
        let span = last
            .saturating_duration_since(start)
            .as_secs_f64()
            .max(secs);
        let ok = lat.len() as u64;
        lags.sort_unstable();
        Ok(Step {
            target: t.name,
            offered: rate,
            closed_loop: false,
            secs: span,
            sent: total - shed,
            ok,
            errors,
            shed,
            achieved: ok as f64 / span,
            latency: latency(lat),
            service: latency(service),
            lag_p99_us: percentile(&lags, 99.0),
            samples,
        })
    }

    /// Closed loop: `workers` each send their next request when the last one answered.
    async fn closed(&self, t: &Target, workers: usize, secs: f64) -> anyhow::Result<Step> {
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(secs);
        let mut set = JoinSet::new();
        for w in 0..workers {
            let (client, url, callers) = (self.client.clone(), t.url.clone(), self.callers.clone());
            let (body, expected) = (self.body, self.expected);
            let seed = mix(self.seed, w as u64 + 1);
            set.spawn(async move {
                let (mut lat, mut errors, mut samples) = (Vec::new(), 0u64, Vec::new());
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let c = &callers[pick(callers.len(), seed, i)];
                    i += 1;
                    let t0 = Instant::now();
                    match call(&client, &url, body, c, expected).await {
                        Ok(()) => lat.push(micros(t0.elapsed())),
                        Err(e) => {
                            errors += 1;
                            if samples.len() < KEEP_ERRORS {
                                samples.push(e);
                            }
                        }
                    }
                }
                (lat, errors, samples)
            });
        }
        let (mut lat, mut errors, mut samples) = (Vec::new(), 0u64, Vec::new());
        while let Some(r) = set.join_next().await {
            let (l, e, s) = r.context("a load worker panicked")?;
            lat.extend(l);
            errors += e;
            samples.extend(s);
        }
        samples.truncate(KEEP_ERRORS);
        let span = start.elapsed().as_secs_f64();
        let ok = lat.len() as u64;
        let lat = latency(lat);
        Ok(Step {
            target: t.name,
            offered: workers as f64,
            closed_loop: true,
            secs: span,
            sent: ok + errors,
            ok,
            errors,
            shed: 0,
            achieved: ok as f64 / span,
            latency: lat,
            service: lat,
            lag_p99_us: 0,
            samples,
        })
    }
}

struct Saturation {
    probe: Step,
    steps: Vec<Step>,
    /// The highest passing step's offered rate and achieved throughput.
    offered: f64,
    achieved: f64,
}

/// Warm-up and probe closed loop, then open-loop steps: find a passing and a failing rate
/// around the probe's throughput, then bisect between them.
async fn saturation(load: &Load, t: &Target, s: &Settings) -> anyhow::Result<Saturation> {
    if s.warmup_secs > 0.0 {
        let w = load.closed(t, s.concurrency, s.warmup_secs).await?;
        eprintln!("dashboard bench: warm-up   {}", w.line());
    }
    let probe = load.closed(t, s.concurrency, s.probe_secs).await?;
    eprintln!("dashboard bench: probe     {}", probe.line());
    ensure!(
        probe.ok > 0,
        "{}: no request succeeded in the probe: {:?}",
        t.name,
        probe.samples
    );
    let mut steps: Vec<Step> = Vec::new();
    let run = async |rate: f64, steps: &mut Vec<Step>| -> anyhow::Result<bool> {
        tokio::time::sleep(PAUSE_BETWEEN_STEPS).await;
        let step = load.open(t, rate, s.step_secs).await?;
        eprintln!("dashboard bench: step      {}", step.line());
        let passed = step.passed();
        steps.push(step);
        Ok(passed)
    };
    let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
    let mut rate = (probe.achieved * 0.5).max(MIN_RATE);
    while lo.is_none() {
        ensure!(
            rate >= MIN_RATE,
            "{}: fails even at {MIN_RATE} requests/s",
            t.name
        );
        if run(rate, &mut steps).await? {
            lo = Some(rate);
        } else {
            hi = Some(rate);
            rate /= 2.0;
        }
    }
    if hi.is_none() {
        let mut rate = probe.achieved * 1.25;
        for _ in 0..MAX_UP_STEPS {
            if run(rate, &mut steps).await? {
                lo = Some(rate);
                rate *= 1.5;
            } else {
                hi = Some(rate);
                break;
            }
        }
    }
    if let (Some(mut l), Some(mut h)) = (lo, hi) {
        for _ in 0..s.bisect {
            let mid = (l + h) / 2.0;
            if run(mid, &mut steps).await? {
                l = mid;
            } else {
                h = mid;
            }
        }
        lo = Some(l);
    }
    let offered = lo.context("no passing rate")?;
    let achieved = steps
        .iter()
        .filter(|st| st.offered == offered && st.passed())
        .map(|st| st.achieved)
        .fold(0.0, f64::max);
    Ok(Saturation {
        probe,
        steps,
        offered,
        achieved,
    })
}

// ---------------------------------------------------------------------------------------------

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn latency_json(l: &Latency) -> Value {
    json!({ "mean": l.mean_us, "p50": l.p50_us, "p90": l.p90_us, "p99": l.p99_us, "max": l.max_us })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = Settings::from_env()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = loadavg();

    eprintln!("dashboard bench: starting PostgreSQL, Redis and the server …");
    let db_connections = s.db_connections;
    let app = TestApp::start_with(Backend::Postgres, |config| {
        config.access_token_ttl = TOKEN_TTL;
        // Nothing is mailed here; the outbox worker's pass over 100 spaces would only add its
        // statements to the counts and its load to the figures.
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

    eprintln!(
        "dashboard bench: seeding {} spaces × {} learners × {} enrolments as the owner …",
        s.tenants, s.learners, s.enrolments
    );
    let seeded = seed(&app, &s).await?;
    eprintln!("dashboard bench: seeded in {:.1} s", seeded.secs);

    let callers = Arc::new(callers(&app, &s).await?);
    let baseline = start_baseline(&app, pool).await?;
    ensure!(
        baseline.base.starts_with("http://127.0.0.1:"),
        "the hand-written handler is not on 127.0.0.1"
    );
    let spaces = Target {
        name: "Spaces",
        url: Arc::from(format!("{}/graphql", app.base)),
    };
    let hand = Target {
        name: "hand-written",
        url: Arc::from(format!("{}/dashboard", baseline.base)),
    };
    let body: &'static str = Box::leak(json!({ "query": DASHBOARD }).to_string().into_boxed_str());
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(s.max_in_flight.max(s.concurrency))
        .no_proxy()
        .build()
        .context("building the HTTP client")?;

    // Same answers from both, and the statements Spaces runs for one dashboard.
    let statements_before = app.state.deps.db.statements_run();
    let compared = COMPARE.min(callers.len());
    for c in callers.iter().take(compared) {
        let a = fetch(&client, &spaces.url, body, c).await?;
        let b = fetch(&client, &hand.url, body, c).await?;
        ensure!(
            a.get("errors").is_none(),
            "Spaces answered with errors: {a}"
        );
        ensure!(
            a["data"] == b["data"],
            "the two answers differ:\nSpaces:       {a}\nhand-written: {b}"
        );
        let n = a["data"]["viewer"]["enrolments"]["edges"]
            .as_array()
            .map_or(0, Vec::len);
        ensure!(
            n == s.enrolments,
            "{n} enrolments on the dashboard, expected {}",
            s.enrolments
        );
    }
    let statements_per_request =
        (app.state.deps.db.statements_run() - statements_before) as f64 / compared as f64;
    eprintln!(
        "dashboard bench: answers identical for {compared} learners; Spaces runs {statements_per_request:.1} statements per dashboard"
    );

    let load = Load {
        client,
        body,
        callers: callers.clone(),
        expected: s.enrolments,
        max_in_flight: s.max_in_flight,
        seed: unix_now(),
    };
    eprintln!("dashboard bench: Spaces saturation search …");
    let sat_spaces = saturation(&load, &spaces, &s).await?;
    eprintln!("dashboard bench: hand-written saturation search …");
    let sat_hand = saturation(&load, &hand, &s).await?;
    let ratio = sat_spaces.achieved / sat_hand.achieved;

    let half = sat_spaces.offered / 2.0;
    eprintln!(
        "dashboard bench: Spaces at {half:.0} req/s for {} s …",
        s.secs
    );
    tokio::time::sleep(PAUSE_BETWEEN_STEPS).await;
    let at_half = load.open(&spaces, half, s.secs).await?;
    eprintln!("dashboard bench: measured  {}", at_half.line());
    tokio::time::sleep(PAUSE_BETWEEN_STEPS).await;
    let hand_at_half = load.open(&hand, half, s.secs).await?;
    eprintln!("dashboard bench: reference {}", hand_at_half.line());
    // The machine's other load drifts over minutes, and the two searches run minutes apart:
    // short closed-loop runs of each in turn see the same background, so their ratio is steadier.
    let mut rounds = Vec::with_capacity(s.rounds);
    for i in 0..s.rounds {
        tokio::time::sleep(PAUSE_BETWEEN_STEPS).await;
        let a = load.closed(&spaces, s.concurrency, s.probe_secs).await?;
        tokio::time::sleep(PAUSE_BETWEEN_STEPS).await;
        let b = load.closed(&hand, s.concurrency, s.probe_secs).await?;
        eprintln!(
            "dashboard bench: round {} Spaces {:.1} req/s, hand-written {:.1} req/s, ratio {:.2}",
            i + 1,
            a.achieved,
            b.achieved,
            a.achieved / b.achieved
        );
        rounds.push((a.achieved, b.achieved));
    }
    let mut round_ratios: Vec<f64> = rounds.iter().map(|(a, b)| a / b).collect();
    round_ratios.sort_by(f64::total_cmp);
    let paired_median = match round_ratios.len() {
        0 => None,
        n if n % 2 == 1 => Some(round_ratios[n / 2]),
        n => Some((round_ratios[n / 2 - 1] + round_ratios[n / 2]) / 2.0),
    };
    let load_after = loadavg();

    let ratio_ok = ratio >= 0.5;
    let p99_ok = at_half.latency.p99_us < 25_000;
    let errors_ok = at_half.errors == 0 && at_half.shed == 0;
    let yes = |b: bool| if b { "yes" } else { "NO" };
    let l = &at_half.latency;
    let h = &hand_at_half.latency;

    println!();
    println!("learner dashboard over HTTP (127.0.0.1), PostgreSQL (RLS, non-owner role) + Redis");
    println!("  query                 {DASHBOARD}");
    println!(
        "  seed                  {} spaces × {} learners × {} enrolments: {} enrolments, {} progress rows, {} MiB, in {:.1} s",
        s.tenants,
        s.learners,
        s.enrolments,
        seeded.counts["enrolments"],
        seeded.counts["module_progress"],
        seeded.counts["database_bytes"].as_u64().unwrap_or(0) / (1024 * 1024),
        seeded.secs
    );
    println!(
        "  callers               {} learners sampled at random, fresh tokens",
        callers.len()
    );
    println!(
        "  machine               {cores} cores (load average {load_before} before, {load_after} after); db pools {pool} each"
    );
    println!(
        "  statements/dashboard  Spaces {statements_per_request:.1} (counted by its pool); hand-written 2 (set_config, SELECT)"
    );
    println!(
        "  answers               identical for {compared} learners ({} enrolments each)",
        s.enrolments
    );
    println!();
    println!(
        "                               {:>12}  {:>12}",
        "Spaces", "hand-written"
    );
    println!(
        "  closed loop, {:>4} workers  {:>12.1}  {:>12.1}  req/s",
        s.concurrency, sat_spaces.probe.achieved, sat_hand.probe.achieved
    );
    println!(
        "  saturation (open loop)     {:>12.1}  {:>12.1}  req/s (offered {:.0} / {:.0})",
        sat_spaces.achieved, sat_hand.achieved, sat_spaces.offered, sat_hand.offered
    );
    println!(
        "  ratio Spaces/hand-written  {ratio:>12.2}                 target ≥ 0.50: {}",
        yes(ratio_ok)
    );
    if let Some(m) = paired_median {
        println!(
            "  paired rounds          {} × ({} s Spaces, {} s hand-written), closed loop, {} workers:",
            rounds.len(),
            s.probe_secs,
            s.probe_secs,
            s.concurrency
        );
        for (a, b) in &rounds {
            println!(
                "                               {a:>12.1}  {b:>12.1}  req/s  ratio {:.2}",
                a / b
            );
        }
        println!(
            "  ratio, median of rounds    {m:>12.2}                 target ≥ 0.50: {}",
            yes(m >= 0.5)
        );
    }
    println!();
    println!(
        "  at {half:.0} req/s (half of Spaces' saturation), {} s open loop, latency from each scheduled start:",
        s.secs
    );
    println!(
        "    requests / ok            {:>12}  {:>12}",
        format!("{} / {}", at_half.sent + at_half.shed, at_half.ok),
        format!(
            "{} / {}",
            hand_at_half.sent + hand_at_half.shed,
            hand_at_half.ok
        )
    );
    println!(
        "    errors (+ shed)          {:>12}  {:>12}  target 0: {}",
        at_half.errors + at_half.shed,
        hand_at_half.errors + hand_at_half.shed,
        yes(errors_ok)
    );
    println!(
        "    latency p50              {:>9.2} ms  {:>9.2} ms",
        ms(l.p50_us),
        ms(h.p50_us)
    );
    println!(
        "    latency p90              {:>9.2} ms  {:>9.2} ms",
        ms(l.p90_us),
        ms(h.p90_us)
    );
    println!(
        "    latency p99              {:>9.2} ms  {:>9.2} ms  target < 25 ms: {}",
        ms(l.p99_us),
        ms(h.p99_us),
        yes(p99_ok)
    );
    println!(
        "    latency max              {:>9.2} ms  {:>9.2} ms",
        ms(l.max_us),
        ms(h.max_us)
    );
    println!(
        "    from actual send p50/p99 {:>12}  {:>12}",
        format!(
            "{:.2}/{:.2}",
            ms(at_half.service.p50_us),
            ms(at_half.service.p99_us)
        ),
        format!(
            "{:.2}/{:.2}",
            ms(hand_at_half.service.p50_us),
            ms(hand_at_half.service.p99_us)
        )
    );
    println!(
        "    generator lag p99        {:>9.2} ms  {:>9.2} ms",
        ms(at_half.lag_p99_us),
        ms(hand_at_half.lag_p99_us)
    );
    println!();
    println!("  steps:");
    for st in std::iter::once(&sat_spaces.probe)
        .chain(&sat_spaces.steps)
        .chain(std::iter::once(&sat_hand.probe))
        .chain(&sat_hand.steps)
        .chain([&at_half, &hand_at_half])
    {
        println!("    {}", st.line());
    }
    for e in at_half.samples.iter().chain(&hand_at_half.samples) {
        println!("  error: {e}");
    }

    let report = json!({
        "bench": "dashboard",
        "query": DASHBOARD,
        "at": chrono::Utc::now().to_rfc3339(),
        "backend": "postgres",
        "cores": cores,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "db_max_connections": pool,
        "scale": {
            "tenants": s.tenants, "learners_per_tenant": s.learners,
            "enrolments_per_learner": s.enrolments, "editions_per_tenant": s.editions(),
            "modules_per_edition": 3, "required_modules_per_edition": 2,
        },
        "seed": {
            "secs": seeded.secs,
            "tables": seeded.tables.iter().map(|(n, t)| json!({ "table": n, "secs": t })).collect::<Vec<_>>(),
            "rows": seeded.counts,
        },
        "callers": callers.len(),
        "answers_compared": compared,
        "spaces_statements_per_request": statements_per_request,
        "settings": {
            "secs": s.secs, "step_secs": s.step_secs, "warmup_secs": s.warmup_secs,
            "probe_secs": s.probe_secs, "concurrency": s.concurrency, "bisect": s.bisect,
            "max_in_flight": s.max_in_flight, "pass_share": PASS_SHARE, "rounds": s.rounds,
            "request_timeout_secs": REQUEST_TIMEOUT.as_secs_f64(),
        },
        "saturation": {
            "spaces_rps": sat_spaces.achieved,
            "spaces_offered_rps": sat_spaces.offered,
            "hand_written_rps": sat_hand.achieved,
            "hand_written_offered_rps": sat_hand.offered,
            "ratio": ratio,
        },
        "paired_rounds": {
            "secs_each": s.probe_secs,
            "workers": s.concurrency,
            "rounds": rounds.iter().map(|(a, b)| json!({ "spaces_rps": a, "hand_written_rps": b, "ratio": a / b })).collect::<Vec<_>>(),
            "median_ratio": paired_median,
        },
        "half_load": {
            "rate_rps": half,
            "spaces": at_half.json(),
            "hand_written": hand_at_half.json(),
        },
        "targets": {
            "ratio_at_least_half": ratio_ok,
            "p99_under_25ms": p99_ok,
            "zero_errors": errors_ok,
        },
        "spaces_latency_us_at_half": latency_json(l),
        "steps": std::iter::once(&sat_spaces.probe)
            .chain(&sat_spaces.steps)
            .chain(std::iter::once(&sat_hand.probe))
            .chain(&sat_hand.steps)
            .map(Step::json)
            .collect::<Vec<_>>(),
    });
    let path = report_path("bench-dashboard.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("  json                  {}", path.display());

    // Stop both servers; the PostgreSQL cluster and Redis go when the process ends.
    drop(load);
    let _ = baseline.shutdown.send(());
    match tokio::time::timeout(Duration::from_secs(10), baseline.handle).await {
        Ok(Ok(Ok(()))) => {}
        _ => eprintln!("dashboard bench: the hand-written handler did not stop cleanly"),
    }
    if tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .is_err()
    {
        eprintln!("dashboard bench: the server did not stop within 10 s");
    }
    if at_half.errors > 0 {
        bail!(
            "{} of {} requests failed at half saturation",
            at_half.errors,
            at_half.sent
        );
    }
    Ok(())
}
