//! PostgreSQL restarted under load: what clients see.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench restart`.
//!
//! Starts the real server against a PostgreSQL cluster of its own (row-level security,
//! non-owner role), signs in one admin, then drives the authenticated `{ viewer { email } }`
//! closed loop with `BENCH_CONCURRENCY` workers (16) for `BENCH_SECS` (10 s); after a third of
//! it, restarts the database (`pg_ctl -m fast stop`, then start, as an operator's restart does).
//! Counts every answer by outcome (data, `UNAVAILABLE`, anything else) and prints how long
//! `/readyz` (probed every 50 ms) said unready. Writes the figures to `target/bench-restart.json`.
//! It exits non-zero if any answer is neither data nor `UNAVAILABLE`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use spaces_tests::app::code;
use spaces_tests::bench::{env_number, report_path};
use spaces_tests::pg::PgCluster;
use spaces_tests::{Backend, TestApp, fixtures};

const VIEWER: &str = "{ viewer { email } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: f64 = env_number("BENCH_SECS")?.unwrap_or(10.0);
    let workers: usize = env_number("BENCH_CONCURRENCY")?.unwrap_or(16);

    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await??);
    let p = pg.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        p.create_database("spaces", None, None)?;
        Ok(())
    })
    .await??;
    spaces_gateway::app::migrate(&pg.url("owner", None, "spaces")).await?;
    let p = pg.clone();
    tokio::task::spawn_blocking(move || {
        p.psql(
            "postgres",
            &format!(
                "CREATE ROLE bench_server LOGIN PASSWORD 'pw' IN ROLE {}",
                spaces_migrations::APP_ROLE
            ),
        )
    })
    .await??;
    let url = pg.url("bench_server", Some("pw"), "spaces");
    let app = TestApp::start_with(Backend::Postgres, |c| c.database_url = url).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, base, slug, token, stop) = (
            app.client.clone(),
            app.base.clone(),
            c.slug.clone(),
            c.admin_token.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut seen: BTreeMap<String, u64> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let outcome = match client
                    .post(format!("{base}/graphql"))
                    .header("X-Tenant", &slug)
                    .header("Authorization", format!("Bearer {token}"))
                    .json(&json!({ "query": VIEWER }))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                {
                    Ok(r) => match r.json::<Value>().await {
                        Ok(v) if v["data"]["viewer"]["email"].is_string() => "data".to_owned(),
                        Ok(v) => code(&v),
                        Err(e) => format!("unreadable answer: {e}"),
                    },
                    Err(e) => format!("no answer: {e}"),
                };
                *seen.entry(outcome).or_default() += 1;
            }
            seen
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs / 3.0)).await;
    let p = pg.clone();
    let restart_started = Instant::now();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        p.stop_now()?;
        p.start_again()?;
        Ok(())
    })
    .await??;
    let restart_ms = restart_started.elapsed().as_millis();
    // Readiness, probed every 50 ms until it says ready.
    let probe_started = Instant::now();
    let mut unready_probes = 0;
    loop {
        let r = app
            .client
            .get(format!("{}/readyz", app.base))
            .send()
            .await?;
        if r.status() == 200 {
            break;
        }
        unready_probes += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready_after_ms = probe_started.elapsed().as_millis();
    let rest = Duration::from_secs_f64(secs).saturating_sub(started.elapsed());
    tokio::time::sleep(rest).await;
    stop.store(true, Ordering::Relaxed);
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        for (k, n) in t.await? {
            *total.entry(k).or_default() += n;
        }
    }
    let requests: u64 = total.values().sum();
    let other: u64 = total
        .iter()
        .filter(|(k, _)| k.as_str() != "data" && k.as_str() != "UNAVAILABLE")
        .map(|(_, n)| n)
        .sum();
    println!(
        "{requests} requests by {workers} workers in {secs} s; PostgreSQL restart took {restart_ms} ms; \
         readiness back {ready_after_ms} ms after the restart ({unready_probes} unready probes)"
    );
    for (k, n) in &total {
        println!("  {k}: {n}");
    }
    let report = json!({
        "requests": requests, "workers": workers, "secs": secs, "outcomes": total,
        "restart_ms": restart_ms, "ready_after_ms": ready_after_ms, "unready_probes": unready_probes,
    });
    std::fs::write(
        report_path("bench-restart.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    app.stop().await;
    anyhow::ensure!(
        other == 0,
        "{other} answers were neither data nor UNAVAILABLE"
    );
    Ok(())
}
