//! Signs in 1,000 times and reports the process's resident memory: argon2 needs 19 MiB per
//! hash, and the server reuses one buffer per hashing slot instead of leaving each one to the
//! allocator. Run by hand: `cargo bench -p spaces-tests --bench signin_memory`
//! (`BENCH_SIGNINS`, `BENCH_CONCURRENCY` override 1,000 and 8; one account from one address
//! may have at most 10 attempts in flight, as the sign-in limits count attempts before checking).
//!
//! The server runs in this process (as in the tests) on the embedded SQLite setup, so the figures
//! are the whole process's, server and client together: an upper bound for the server.

use std::time::Instant;

use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::bench::{env_number, report_path};
use spaces_tests::fixtures::{self, PASSWORD};
use spaces_tests::{Backend, TestApp};

/// A `/proc/self/status` figure in KiB (`VmRSS`: now, `VmHWM`: the peak).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = env_number("BENCH_SIGNINS")?.unwrap_or(1_000);
    let concurrency: usize = env_number("BENCH_CONCURRENCY")?.unwrap_or(8);
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let rss_before = status_kib("VmRSS:");
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = vec![];
    for _ in 0..concurrency {
        let (client, url, slug, email, next) = (
            app.client.clone(),
            format!("{}/graphql", app.base),
            c.slug.clone(),
            c.admin_email.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut failures = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < total {
                let v: Value = client
                    .post(&url)
                    .header("X-Tenant", &slug)
                    .json(&json!({ "query": "mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }", "variables": { "i": { "email": email, "password": PASSWORD } } }))
                    .send()
                    .await?
                    .json()
                    .await?;
                if v.get("errors").is_some() {
                    failures += 1;
                }
            }
            anyhow::Ok(failures)
        }));
    }
    let mut failures = 0;
    for w in workers {
        failures += w.await??;
    }
    let took = started.elapsed();
    let rss_after = status_kib("VmRSS:");
    let peak = status_kib("VmHWM:");
    let slots = app.state.deps.hasher.slots();
    println!(
        "{total} sign-ins, {concurrency} concurrent, {slots} hashing slots: {:.1} s ({:.0}/s), {failures} failures",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    println!(
        "RSS before {:.1} MiB, after {:.1} MiB, peak {:.1} MiB",
        mib(rss_before),
        mib(rss_after),
        mib(peak)
    );
    let report = json!({
        "signins": total, "concurrency": concurrency, "slots": slots, "failures": failures,
        "seconds": took.as_secs_f64(), "rss_before_mib": mib(rss_before),
        "rss_after_mib": mib(rss_after), "peak_rss_mib": mib(peak),
    });
    std::fs::write(report_path("bench-signin-memory.json"), report.to_string())?;
    // One more, to show the server still answers after the run.
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    ok(&v);
    app.stop().await;
    anyhow::ensure!(failures == 0, "{failures} sign-ins failed");
    Ok(())
}
