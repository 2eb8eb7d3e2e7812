//! Voucher race on PostgreSQL with RLS: the wall time of 100 concurrent `selfEnrol` with one
//! code (each learner from an address of their own), for a single-use code and a 3-use one.
//! Exactly `max_uses` racers must get a place; the bench fails otherwise.
//!
//! Run by hand (never in CI): `cargo bench -p spaces-tests --bench voucher_race`.
//! Environment (optional): `BENCH_RACERS` (default 100), `BENCH_ROUNDS` (default 5 per code).
//! The report goes to `target/bench-voucher-race.json`.

use std::time::Instant;

use anyhow::ensure;
use serde_json::{Value, json};
use spaces_billing::funders::{self, NewFunder};
use spaces_billing::vouchers::batch::{self, NewBatch, Restrictions, Value as Worth};
use spaces_billing::{Currency, Money};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{OrganisationId, TenantId, TenantTx};
use spaces_tests::app::ok;
use spaces_tests::bench::{env_number, report_path};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const SELF_ENROL: &str = "mutation($e: ID!, $codes: [String!]) { selfEnrol(editionId: $e, voucherCodes: $codes) { id } }";

async fn tx_of(app: &TestApp, c: &Campus) -> anyhow::Result<TenantTx> {
    Ok(TenantTx::begin(&app.state.deps.db, TenantId::from_uuid(c.id.parse()?)).await?)
}

/// A priced self-enrolment edition, a sector fund with a billing account, and `racers`
/// learners with their tokens.
async fn space(
    app: &TestApp,
    op: &str,
    racers: usize,
) -> anyhow::Result<(Campus, String, Vec<String>, spaces_billing::funders::Funder)> {
    let c = fixtures::campus(app, op).await;
    let durand = fixtures::company(app, &c, "Durand").await;
    fixtures::billing_account(app, &c, &durand).await;
    let fund_org = fixtures::company(app, &c, "Fonds").await;
    fixtures::billing_account(app, &c, &fund_org).await;
    let course = fixtures::published_course(app, op, "Food safety").await;
    let e = fixtures::open_edition(app, &c, &course, "SELF_ENROLMENT", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { id } }",
            json!({ "id": e, "i": { "price": { "amountMinor": 70_000, "currency": "EUR" } } }),
        )
        .await;
    ok(&v);
    let tx = tx_of(app, &c).await?;
    let f = funders::create(
        &tx,
        app.state.deps.clock.now(),
        NewFunder {
            name: "Fonds".into(),
            kind: FunderKind::SectorFund,
            contact_name: "Claire".into(),
            contact_email: "claire@fonds.test".into(),
            organisation: OrganisationId::from_uuid(fund_org.parse()?),
        },
    )
    .await?;
    tx.commit().await?;
    let mut tokens = Vec::with_capacity(racers);
    for i in 0..racers {
        let (_, t) = fixtures::member(
            app,
            &c,
            &c.admin_token,
            &durand,
            &format!("racer{i}@durand.test"),
            "LEARNER",
        )
        .await;
        tokens.push(t);
    }
    Ok((c, e, tokens, f))
}

/// One round: a fresh code of `max_uses`, the racers all at once; returns the wall time (ms)
/// and the places taken.
async fn round(
    app: &TestApp,
    c: &Campus,
    e: &str,
    tokens: &[String],
    f: &spaces_billing::funders::Funder,
    max_uses: u32,
) -> anyhow::Result<(f64, usize)> {
    let now = app.state.deps.clock.now();
    let tx = tx_of(app, c).await?;
    let made = batch::create(
        &tx,
        &app.state.deps.voucher_key,
        now,
        None,
        NewBatch {
            funder: f.id,
            funder_kind: f.kind,
            name: "Race".into(),
            count: 1,
            value: Worth::Face(Money::new(50_000, Currency::parse("currency", "EUR")?)),
            min_learner_share: None,
            valid_from: now - chrono::Duration::days(1),
            valid_until: now + chrono::Duration::days(90),
            uses_per_code: max_uses,
            restrictions: Restrictions::default(),
        },
    )
    .await?;
    tx.commit().await?;
    let code = made.codes[0].grouped();
    let started = Instant::now();
    let mut racers = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let (client, url) = (app.client.clone(), format!("{}/graphql", app.base));
        let body = json!({ "query": SELF_ENROL, "variables": { "e": e, "codes": [code] } });
        let (slug, token) = (c.slug.clone(), token.clone());
        racers.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Tenant", slug)
                .header(
                    "X-Forwarded-For",
                    format!("10.1.{}.{}", i / 250, i % 250 + 1),
                )
                .header("Authorization", format!("Bearer {token}"))
                .json(&body)
                .send()
                .await?
                .json::<Value>()
                .await
        }));
    }
    let mut won = Vec::new();
    for r in racers {
        let v = r.await??;
        if v["errors"].is_null() {
            won.push(
                v["data"]["selfEnrol"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    // Free the places for the next round: each winner withdraws (inside the period, so the
    // use comes back too, which a fresh code per round does not need).
    for id in &won {
        let v = app
            .gql(
                Some(&c.slug),
                Some(&c.admin_token),
                "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }",
                json!({ "id": id }),
            )
            .await;
        ok(&v);
    }
    Ok((wall, won.len()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let racers: usize = env_number("BENCH_RACERS")?.unwrap_or(100);
    let rounds: usize = env_number("BENCH_ROUNDS")?.unwrap_or(5);
    let app = TestApp::start_with(Backend::Postgres, |cfg| {
        cfg.trusted_proxies = vec![
            "127.0.0.1/32".parse().expect("a network"),
            "::1/128".parse().expect("a network"),
        ];
    })
    .await;
    let op = fixtures::operator(&app).await;
    let (c, e, tokens, f) = space(&app, &op, racers).await?;
    let mut report = serde_json::Map::new();
    for max_uses in [1u32, 3] {
        let mut walls = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let (wall, won) = round(&app, &c, &e, &tokens, &f, max_uses).await?;
            ensure!(
                won == max_uses as usize,
                "{won} places for a code of {max_uses} uses"
            );
            walls.push(wall);
        }
        walls.sort_by(f64::total_cmp);
        let median = walls[walls.len() / 2];
        println!(
            "race_one_code: {racers} racers, a code of {max_uses} use(s): median {median:.0} ms, min {:.0}, max {:.0} ({rounds} rounds)",
            walls[0],
            walls[walls.len() - 1]
        );
        report.insert(
            format!("uses_{max_uses}"),
            json!({ "racers": racers, "rounds": rounds, "median_ms": median, "walls_ms": walls }),
        );
    }
    let path = report_path("bench-voucher-race.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    app.stop().await;
    Ok(())
}
