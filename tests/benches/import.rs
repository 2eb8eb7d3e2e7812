//! Times a 10,000-row CSV import on PostgreSQL with RLS and reports the peak resident memory.
//! Run by hand: `cargo bench -p spaces-tests --bench import` (BENCH_ROWS overrides the size).
//!
//! The server runs in this process (as in the tests), so the peak memory reported is the
//! process's high-water mark (VmHWM), server and client together: an upper bound for the server.

use std::time::Instant;

use serde_json::json;
use spaces_tests::app::ok;
use spaces_tests::{Backend, TestApp, fixtures};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Durand", "externalRef": "SIRET-42" } }),
        )
        .await;
    ok(&v);
    let course = fixtures::published_course(&app, &op, "Import bench").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let mut csv = String::from("email;given name;family name;organisation;due date\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "staff{i}@durand.test;Given{i};Family{i};SIRET-42;2027-06-30\n"
        ));
    }
    let q = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { rows createdPeople newEnrolments applied errors { line reason } } }";
    let bytes = csv.len();
    let rss_before = vm_hwm_kib();
    let started = Instant::now();
    let (status, v) = app
        .upload(
            &c.slug,
            &c.admin_token,
            q,
            json!({ "e": edition }),
            "staff.csv",
            csv.clone().into_bytes(),
        )
        .await;
    let took = started.elapsed();
    let rss_after = vm_hwm_kib();
    assert_eq!(status, 200, "{v}");
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(r["applied"], true, "{r}");
    // The same file again: everything already there.
    let again = Instant::now();
    let (_, v2) = app
        .upload(
            &c.slug,
            &c.admin_token,
            q,
            json!({ "e": edition }),
            "staff.csv",
            csv.into_bytes(),
        )
        .await;
    let took_again = again.elapsed();
    ok(&v2);
    println!("\nCSV import on PostgreSQL (RLS), one request, {bytes} bytes");
    println!("  rows                   {}", r["rows"]);
    println!("  people created         {}", r["createdPeople"]);
    println!("  enrolments created     {}", r["newEnrolments"]);
    println!("  time                   {:.2} s", took.as_secs_f64());
    println!("  time, same file again  {:.2} s", took_again.as_secs_f64());
    println!(
        "  peak RSS (process)     {} MiB before, {} MiB after",
        rss_before / 1024,
        rss_after / 1024
    );
    app.stop().await;
}
