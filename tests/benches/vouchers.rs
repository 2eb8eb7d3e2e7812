//! Vouchers benchmark on PostgreSQL with RLS.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench vouchers`.
//!
//! 1. `create_batch`: `createVoucherBatch` of 100,000 codes (GraphQL over HTTP, by the space's
//!    admin: parsing, 100,000 codes drawn and hashed, 100 inserts of 1,000 rows, the answer with
//!    every code and the CSV), timed from request to the whole answer read; then, as the
//!    database owner, the batch must hold exactly 100,000 rows with 100,000 distinct hashes.
//!    Target: under 10 s.
//! 2. `race_one_code` (`vouchers/race.rs`): 100 learners of another space, each signed in, with
//!    a client of their own already connected (and its own client address), send
//!    `selfEnrol` of one priced edition with the same fresh code all at once. The wall time runs
//!    from the first request sent to the last answer read. Exactly `uses` racers must get a
//!    place, the code must show `uses` uses and exactly `uses` `redemption` ledger postings, and
//!    every other racer must be refused with VOUCHER_INVALID `exhausted`, or the run fails.
//!    Rounds for a single-use code, then for a 3-use code; the winners withdraw between rounds.
//!    Target: under 1 s (median of the rounds).
//!
//! The run exits non-zero on a wrong answer or a missed target, after writing the report,
//! `target/bench-vouchers.json`.
//!
//! Environment (optional):
//! - `BENCH_RUNS` batches made, one after the other (default 3);
//! - `BENCH_CODES` codes per batch (default 100000);
//! - `BENCH_RACERS` racers on one code (default 100);
//! - `BENCH_ROUNDS` race rounds per code (default 5, at most 5: a losing racer's failed
//!   redemption counts against that person's limit of 10 per 15 minutes, over both codes);
//! - `BENCH_DB_CONNECTIONS` the server's database pool (default 8, as in every test).

#[path = "vouchers/race.rs"]
mod race;

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::json;
use spaces_tests::app::ok;
use spaces_tests::bench::{env_number, report_path};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const CREATE_FUNDER: &str = "mutation($i: CreateFunderInput!) { createFunder(input: $i) { id } }";
const CREATE_BATCH: &str = "mutation($i: CreateVoucherBatchInput!) { createVoucherBatch(input: $i) { batch { id count } codes csv } }";

/// One batch of `count` codes through the API; returns its id and the seconds it took.
async fn create_batch(
    app: &TestApp,
    c: &Campus,
    funder: &str,
    count: u32,
) -> anyhow::Result<(String, f64)> {
    let input = json!({ "i": {
        "funderId": funder, "name": "Bench", "count": count,
        "faceValue": { "amountMinor": 50000, "currency": "EUR" },
        "validUntil": (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339(),
    }});
    let started = Instant::now();
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), CREATE_BATCH, input)
        .await;
    let secs = started.elapsed().as_secs_f64();
    let made = &ok(&v)["createVoucherBatch"];
    let codes = made["codes"].as_array().context("no codes")?;
    ensure!(
        codes.len() == count as usize,
        "{} codes answered",
        codes.len()
    );
    ensure!(
        made["csv"].as_str().map(|s| s.lines().count()) == Some(count as usize + 1),
        "the CSV does not hold every code"
    );
    let id = made["batch"]["id"]
        .as_str()
        .context("no batch id")?
        .to_owned();
    let stored = app
        .owner_sql(&format!(
            "SELECT count(*) || ' ' || count(DISTINCT code_hash) FROM vouchers WHERE batch_id = '{id}'"
        ))
        .await;
    ensure!(
        stored.trim() == format!("{count} {count}"),
        "stored rows / distinct hashes: {stored}"
    );
    Ok((id, secs))
}

/// The median of samples (the upper one of an even count), after sorting them.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The 100-way race on one code, for a single-use code and a 3-use one: every round checked,
/// the figures of each code.
async fn race_one_code(
    app: &TestApp,
    op: &str,
    racers: usize,
    rounds: usize,
) -> anyhow::Result<Vec<race::Figures>> {
    eprintln!("  race: a space with {racers} signed-in learners …");
    let arena = race::Arena::new(app, op, racers).await?;
    let mut all = Vec::new();
    for uses in [1u32, 3] {
        let mut walls = Vec::with_capacity(rounds);
        for round in 1..=rounds {
            let wall = arena.round(app, uses).await?;
            eprintln!("  race, a code of {uses} use(s), round {round}: {wall:.0} ms");
            walls.push(wall);
        }
        all.push(race::Figures::of(uses, racers, walls));
    }
    Ok(all)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = env_number("BENCH_RUNS")?.unwrap_or(3);
    let count: u32 = env_number("BENCH_CODES")?.unwrap_or(100_000);
    let racers: usize = env_number("BENCH_RACERS")?.unwrap_or(100);
    let rounds: usize = env_number("BENCH_ROUNDS")?.unwrap_or(5);
    let pool: Option<u32> = env_number("BENCH_DB_CONNECTIONS")?;
    ensure!(runs >= 1, "BENCH_RUNS must be at least 1");
    ensure!(racers >= 3, "BENCH_RACERS must be at least 3");
    ensure!(
        (1..=5).contains(&rounds),
        "BENCH_ROUNDS must be 1 to 5 (each lost round is a failed redemption, 10 per person allowed)"
    );
    let tweak = |config: &mut spaces_gateway::Config| {
        config.outbox_interval = Duration::from_secs(3600);
        config.jobs_interval = Duration::from_secs(3600);
        // Each racer sends its own address (X-Forwarded-For), as distinct learners would.
        config.trusted_proxies = vec![
            "127.0.0.1/32".parse().expect("a network"),
            "::1/128".parse().expect("a network"),
        ];
        if let Some(n) = pool {
            config.db_max_connections = n;
        }
    };
    eprintln!("vouchers bench: starting PostgreSQL, Redis and the server …");
    let app = TestApp::start_with(Backend::Postgres, tweak).await;
    let pool = app.state.config.db_max_connections;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CREATE_FUNDER,
            json!({ "i": { "name": "Bench fund", "kind": "SECTOR_FUND", "contactName": "Bench", "contactEmail": "bench@fund.test" } }),
        )
        .await;
    let funder = ok(&v)["createFunder"]["id"]
        .as_str()
        .context("no funder")?
        .to_owned();

    let mut secs = Vec::with_capacity(runs);
    for run in 1..=runs {
        let (_, s) = create_batch(&app, &c, &funder, count).await?;
        eprintln!("  batch {run}: {count} codes in {s:.2} s");
        secs.push(s);
    }
    let batch_median = median(&mut secs.clone());
    let races = race_one_code(&app, &op, racers, rounds).await?;

    println!(
        "vouchers bench (PostgreSQL with RLS, GraphQL over HTTP, database pool {pool}, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  createVoucherBatch of {count} codes: median {batch_median:.2} s over {runs} runs (each: {}); target < 10 s",
        secs.iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for r in &races {
        println!("  {}; target < 1 s", r.line());
    }
    let report = json!({
        "codes": count,
        "create_batch_secs": secs,
        "create_batch_median_secs": batch_median,
        "db_max_connections": pool,
        "race_one_code": races.iter().map(race::Figures::json).collect::<Vec<_>>(),
    });
    let path = report_path("bench-vouchers.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    eprintln!("wrote {}", path.display());
    app.stop().await;
    ensure!(
        batch_median < 10.0,
        "creating a batch took {batch_median:.2} s (target < 10 s)"
    );
    for r in &races {
        ensure!(
            r.median_ms < 1000.0,
            "the race on a code of {} use(s) took {:.0} ms (target < 1 s)",
            r.uses,
            r.median_ms
        );
    }
    Ok(())
}
