//! The 100-way race on one voucher code (part 2 of the vouchers bench): a priced
//! self-enrolment edition, a sector fund with a billing account, and racers who are signed-in
//! learners of a company, each with an HTTP client of its own and an address of its own
//! (`X-Forwarded-For`, so the per-address limit of failed redemptions is not what answers them).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use spaces_billing::funders::{self, Funder, NewFunder};
use spaces_billing::vouchers::batch::{self, NewBatch, Restrictions, Value as Worth};
use spaces_billing::{Currency, Money};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{OrganisationId, TenantId, TenantTx};
use spaces_tests::TestApp;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use tokio::sync::Barrier;

const SELF_ENROL: &str = "mutation($e: ID!, $codes: [String!]) { selfEnrol(editionId: $e, voucherCodes: $codes) { id } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }";
/// What each racer sends before a round, so that its connection is open when the race starts.
const WARM: &str = "{ __typename }";

/// One learner in the race: signed in, with a client (one pooled connection) of its own.
struct Racer {
    client: reqwest::Client,
    token: String,
    address: String,
}

/// A racer's answer: its JSON and when its request went out and its answer was read.
struct Answer {
    body: Value,
    sent: Instant,
    read: Instant,
}

/// The space the racers enrol in.
pub struct Arena {
    campus: Campus,
    url: String,
    edition: String,
    funder: Funder,
    racers: Vec<Arc<Racer>>,
}

/// One code's rounds.
pub struct Figures {
    pub uses: u32,
    racers: usize,
    walls_ms: Vec<f64>,
    pub median_ms: f64,
}

impl Figures {
    pub fn of(uses: u32, racers: usize, mut walls_ms: Vec<f64>) -> Self {
        let median_ms = super::median(&mut walls_ms);
        Figures {
            uses,
            racers,
            walls_ms,
            median_ms,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "{}-way race on a code of {} use(s): median {:.0} ms, min {:.0}, max {:.0} ({} rounds)",
            self.racers,
            self.uses,
            self.median_ms,
            self.walls_ms[0],
            self.walls_ms[self.walls_ms.len() - 1],
            self.walls_ms.len()
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "uses": self.uses,
            "racers": self.racers,
            "rounds": self.walls_ms.len(),
            "median_ms": self.median_ms,
            "walls_ms": self.walls_ms,
        })
    }
}

async fn tx_of(app: &TestApp, c: &Campus) -> anyhow::Result<TenantTx> {
    Ok(TenantTx::begin(&app.state.deps.db, TenantId::from_uuid(c.id.parse()?)).await?)
}

impl Arena {
    /// A space with a priced self-enrolment edition, a sector fund with a billing account, and
    /// `racers` learners of a company (with a billing account), each signed in.
    pub async fn new(app: &TestApp, op: &str, racers: usize) -> anyhow::Result<Self> {
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
        let funder = funders::create(
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
        let mut list = Vec::with_capacity(racers);
        for i in 0..racers {
            let (_, token) = fixtures::member(
                app,
                &c,
                &c.admin_token,
                &durand,
                &format!("racer{i}@durand.test"),
                "LEARNER",
            )
            .await;
            list.push(Arc::new(Racer {
                client: reqwest::Client::new(),
                token,
                address: format!("10.1.{}.{}", i / 250, i % 250 + 1),
            }));
        }
        Ok(Arena {
            campus: c,
            url: format!("{}/graphql", app.base),
            edition: e,
            funder,
            racers: list,
        })
    }

    /// Every racer sends `body` at once (after `barrier`, when given); each answer is timed.
    async fn all_send(&self, body: &Value, barrier: bool) -> anyhow::Result<Vec<Answer>> {
        let body = Arc::new(serde_json::to_vec(body)?);
        let gate = Arc::new(Barrier::new(self.racers.len()));
        let mut tasks = Vec::with_capacity(self.racers.len());
        for r in &self.racers {
            let (r, body, gate) = (r.clone(), body.clone(), gate.clone());
            let (url, slug) = (self.url.clone(), self.campus.slug.clone());
            tasks.push(tokio::spawn(async move {
                let request = r
                    .client
                    .post(url)
                    .header("X-Tenant", slug)
                    .header("X-Forwarded-For", &r.address)
                    .header("Authorization", format!("Bearer {}", r.token))
                    .header("Content-Type", "application/json")
                    .body((*body).clone());
                if barrier {
                    gate.wait().await;
                }
                let sent = Instant::now();
                let body = request.send().await?.json::<Value>().await?;
                anyhow::Ok(Answer {
                    body,
                    sent,
                    read: Instant::now(),
                })
            }));
        }
        let mut answers = Vec::with_capacity(tasks.len());
        for t in tasks {
            answers.push(t.await??);
        }
        Ok(answers)
    }

    /// One round: a fresh code of `uses` uses, every racer's connection opened, then the race;
    /// returns its wall time in ms, from the first request sent to the last answer read.
    pub async fn round(&self, app: &TestApp, uses: u32) -> anyhow::Result<f64> {
        let now = app.state.deps.clock.now();
        let tx = tx_of(app, &self.campus).await?;
        let made = batch::create(
            &tx,
            &app.state.deps.voucher_key,
            now,
            None,
            NewBatch {
                funder: self.funder.id,
                funder_kind: self.funder.kind,
                name: "Race".into(),
                count: 1,
                value: Worth::Face(Money::new(50_000, Currency::parse("currency", "EUR")?)),
                min_learner_share: None,
                valid_from: now - chrono::Duration::days(1),
                valid_until: now + chrono::Duration::days(90),
                uses_per_code: uses,
                restrictions: Restrictions::default(),
            },
        )
        .await?;
        tx.commit().await?;
        let batch_id = made.batch.id.uuid();
        let code = made.codes[0].grouped();

        for a in self.all_send(&json!({ "query": WARM }), false).await? {
            ensure!(
                a.body["errors"].is_null(),
                "a racer's warm-up failed: {}",
                a.body
            );
        }
        let race =
            json!({ "query": SELF_ENROL, "variables": { "e": self.edition, "codes": [code] } });
        let answers = self.all_send(&race, true).await?;
        let first = answers.iter().map(|a| a.sent).min().context("no racer")?;
        let last = answers.iter().map(|a| a.read).max().context("no racer")?;
        let wall = last.duration_since(first).as_secs_f64() * 1000.0;

        let mut won = Vec::new();
        let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
        for a in &answers {
            if a.body["errors"].is_null() {
                let id = a.body["data"]["selfEnrol"]["id"]
                    .as_str()
                    .with_context(|| format!("an answer without errors or id: {}", a.body))?;
                won.push(id.to_owned());
            } else {
                let x = &a.body["errors"][0]["extensions"];
                let why = format!(
                    "{} {}",
                    x["code"].as_str().unwrap_or("?"),
                    x["reason"].as_str().unwrap_or("-")
                );
                *refusals.entry(why).or_default() += 1;
            }
        }
        ensure!(
            won.len() == uses as usize,
            "{} places for a code of {uses} use(s); refusals: {refusals:?}",
            won.len()
        );
        ensure!(
            refusals.len() == 1 && refusals.contains_key("VOUCHER_INVALID exhausted"),
            "the losers were not all refused as `exhausted`: {refusals:?}"
        );
        // As the database owner: the code's uses and its ledger postings.
        let stored = app
            .owner_sql(&format!(
                "SELECT (SELECT sum(uses) FROM vouchers WHERE batch_id = '{batch_id}') || ' ' || \
                 (SELECT count(*) FROM ledger_transactions t JOIN voucher_redemptions r \
                  ON r.tenant_id = t.tenant_id AND r.id = t.reference_id \
                  WHERE t.kind = 'redemption' AND r.batch_id = '{batch_id}')"
            ))
            .await;
        ensure!(
            stored.trim() == format!("{uses} {uses}"),
            "a code of {uses} use(s): uses / `redemption` postings stored: {stored}"
        );
        // Free the places for the next round: each winner withdraws (inside the period, so the
        // use comes back too, which a fresh code per round does not need).
        for id in &won {
            let v = app
                .gql(
                    Some(&self.campus.slug),
                    Some(&self.campus.admin_token),
                    WITHDRAW,
                    json!({ "id": id }),
                )
                .await;
            ok(&v);
        }
        Ok(wall)
    }
}
