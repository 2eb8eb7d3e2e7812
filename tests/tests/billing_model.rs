//! A seeded randomised run of billing operations (issues, drafts, credit notes, manual and
//! provider payments, refunds), with failures injected (a successful operation rolled back,
//! operations that must be refused, provider replays), checked against a model written here
//! from the README's rules alone: every ledger balance equals the model's, every ledger
//! transaction balances, and invoice numbers are gapless per series.
//!
//! Reproduce a failing run with `SPACES_MODEL_SEED=<seed printed by the test>`;
//! `SPACES_MODEL_OPS` changes the number of operations (10,000 by default on PostgreSQL, the first
//! 3,000 of them on SQLite).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ConnectionTrait, Statement};
use spaces_billing::invoices::{self, IssueInput, LineInput, Vat};
use spaces_billing::ledger;
use spaces_billing::payments::{self, Method, PaymentInput};
use spaces_billing::{BillingAccountId, Currency, InvoiceId, InvoiceLineId, Money};
use spaces_tenants::{Error, OperatorId, Principal, TenantId, TenantTx};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

/// The seed when `SPACES_MODEL_SEED` is not set: a fixed run, the same on every machine.
const SEED: u64 = 0x5eed_b111_2026_0009;
const OPS: usize = 10_000;
/// SQLite runs the same seed's first operations: a full run there takes a minute more.
const OPS_SQLITE: usize = 3_000;
const BUYERS: usize = 4;
/// One successful operation in this many is rolled back instead of committed.
const ROLLBACK_ONE_IN: u64 = 10;
const PROVIDER: &str = "stripe";
const EXEMPTIONS: [&str; 2] = [
    "Exonération de TVA, article 261-4-4° du CGI",
    "Exonération de TVA, article 261-4-4° a du CGI (formation continue)",
];
const RATES: [u32; 5] = [550, 1000, 2000, 210, 0];

mod model;

use model::{Key, Model, Rng};

fn eur(n: i64) -> Money {
    Money::new(n, Currency::EUR)
}

fn random_lines(rng: &mut Rng) -> Vec<(i64, Vat, u32, i64)> {
    (0..rng.range(1, 5))
        .map(|_| {
            let quantity = rng.range(1, 20) as u32;
            // Mostly small prices (where rounding shows), some large ones.
            let unit = if rng.one_in(4) {
                rng.range(1, 5_000_000)
            } else {
                rng.range(1, 999)
            };
            let vat = if rng.one_in(4) {
                Vat::Exempt {
                    mention: EXEMPTIONS[rng.below(EXEMPTIONS.len())].to_owned(),
                }
            } else {
                Vat::Rate {
                    basis_points: RATES[rng.below(RATES.len())],
                }
            };
            (unit * i64::from(quantity), vat, quantity, unit)
        })
        .collect()
}

fn inputs(lines: &[(i64, Vat, u32, i64)], currency: Currency) -> Vec<LineInput> {
    lines
        .iter()
        .enumerate()
        .map(|(n, (_, vat, quantity, unit))| LineInput {
            description: format!("Line {n}"),
            quantity: *quantity,
            unit_price: Money::new(*unit, currency),
            vat: vat.clone(),
            charge: None,
        })
        .collect()
}

/// What one operation asks of the end of its transaction.
enum End {
    /// It succeeded: commit (or, injected, roll back and forget it).
    Applied,
    /// It was refused, or was a replay: commit, and the model must not move.
    Unchanged,
}

struct Run {
    app: TestApp,
    tenant: TenantId,
    campus: Campus,
    buyers: Vec<BillingAccountId>,
    now: DateTime<Utc>,
    seed: u64,
}

impl Run {
    async fn begin(&self) -> TenantTx {
        TenantTx::begin(&self.app.state.deps.db, self.tenant)
            .await
            .unwrap()
    }

    /// Compares every ledger balance with the model's.
    async fn check_balances(&self, model: &Model, at: usize) {
        let tx = self.begin().await;
        let got: BTreeMap<Key, i64> = ledger::balances(&tx)
            .await
            .unwrap()
            .into_iter()
            .map(|(a, m)| {
                assert_eq!(m.currency(), Currency::EUR, "seed {:#x}", self.seed);
                (
                    (a.kind(), a.billing_account().map(BillingAccountId::uuid)),
                    m.amount_minor(),
                )
            })
            .collect();
        tx.rollback().await.unwrap();
        assert_eq!(
            got, model.balances,
            "ledger balances after {at} operations differ from the model (seed {:#x})",
            self.seed
        );
        // Double entry: the space's accounts sum to zero.
        assert_eq!(got.values().sum::<i64>(), 0, "seed {:#x}", self.seed);
    }

    /// Below the application: every ledger transaction of the space has entries summing to zero
    /// per currency, there are as many as the model posted, and numbers are 1..n per series.
    async fn check_below(&self, model: &Model) {
        let conn = crate::ledger::below(&self.app).await;
        let backend = conn.get_database_backend();
        // The test's database holds this one space: no filter by tenant needed.
        let count = |sql: &'static str| {
            let conn = &conn;
            async move {
                let row = conn
                    .query_one_raw(Statement::from_string(backend, sql.to_owned()))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<i64>(0).unwrap()
            }
        };
        let unbalanced = count(
            "SELECT COUNT(*) FROM (SELECT t.id FROM ledger_transactions t \
             LEFT JOIN ledger_entries e ON e.transaction_id = t.id \
             GROUP BY t.id, e.currency \
             HAVING COUNT(e.id) = 0 OR SUM(e.amount_minor) <> 0) x",
        )
        .await;
        assert_eq!(
            unbalanced, 0,
            "unbalanced ledger transactions (seed {:#x})",
            self.seed
        );
        let transactions = count("SELECT COUNT(*) FROM ledger_transactions").await;
        assert_eq!(
            transactions, model.ledger_transactions,
            "seed {:#x}",
            self.seed
        );
        for (kind, letter, n) in [
            ("invoice", "F", model.issued_invoices),
            ("credit_note", "A", model.issued_credit_notes),
        ] {
            let rows = conn
                .query_all_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT number FROM invoices WHERE kind = '{kind}' \
                         AND status = 'issued' ORDER BY number"
                    ),
                ))
                .await
                .unwrap();
            let got: Vec<String> = rows
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect();
            let want: Vec<String> = (1..=n)
                .map(|k| {
                    format!(
                        "{}-{letter}-{}-{k:06}",
                        self.campus.slug.to_uppercase(),
                        self.now.year()
                    )
                })
                .collect();
            assert_eq!(
                got, want,
                "{kind} numbers not gapless (seed {:#x})",
                self.seed
            );
        }
        conn.close().await.unwrap();
    }
}

/// Whether `e` is the refusal the README gives for invalid operation `kind` (see `INVALID`).
fn refused(kind: usize, e: &Error) -> bool {
    match kind {
        0 => matches!(
            e,
            Error::RefusedWith {
                code: "OVERPAYMENT",
                ..
            }
        ),
        1 => matches!(e, Error::Conflict { field, .. } if field == "lineIds"),
        2 => matches!(e, Error::Invalid { field, .. } if field == "amount"),
        3 => matches!(e, Error::Invalid { field, .. } if field.ends_with("unitPrice")),
        4 => matches!(e, Error::Invalid { field, .. } if field == "amount"),
        _ => matches!(e, Error::NotFound),
    }
}

async fn model_run(backend: Backend, default_ops: usize) {
    let seed = std::env::var("SPACES_MODEL_SEED")
        .ok()
        .map(|s| {
            let s = s.trim_start_matches("0x");
            u64::from_str_radix(s, 16).expect("SPACES_MODEL_SEED is hex")
        })
        .unwrap_or(SEED);
    let ops: usize = std::env::var("SPACES_MODEL_OPS")
        .ok()
        .map(|s| s.parse().expect("SPACES_MODEL_OPS is a number"))
        .unwrap_or(default_ops);
    // Shown with the test's output when it fails: rerun with SPACES_MODEL_SEED=<this>.
    println!("billing model: seed {seed:#x}, {ops} operations, {backend:?}");
    let started = std::time::Instant::now();

    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let campus = fixtures::campus(&app, &op).await;
    let mut buyers = Vec::new();
    for n in 0..BUYERS {
        let org = fixtures::company(&app, &campus, &format!("Company {n}")).await;
        let id = fixtures::billing_account(&app, &campus, &org).await;
        buyers.push(id.parse::<BillingAccountId>().unwrap());
    }
    let run = Run {
        tenant: campus.id.parse().unwrap(),
        campus,
        buyers,
        now: app.state.deps.clock.now(),
        app,
        seed,
    };
    let mut rng = Rng(seed);
    let mut model = Model::default();
    let mut next_ref = 0u64;
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let now = run.now;
    let today = now.date_naive();

    for step in 0..ops {
        let ctx = |what: &str| format!("operation {step} ({what}), seed {seed:#x}");
        next_ref += 1;
        let tx = run.begin().await;
        // A failure injected after a successful operation: its transaction is rolled back.
        let roll_back = rng.one_in(ROLLBACK_ONE_IN);
        // The model as it will be if this transaction commits; a copy only when it will not.
        let mut after = if roll_back {
            model.clone()
        } else {
            std::mem::take(&mut model)
        };
        let roll = rng.below(100);
        let (what, end): (&'static str, End) = match roll {
            // Issue an invoice (sometimes through a draft).
            0..=21 => {
                let buyer = run.buyers[rng.below(run.buyers.len())];
                let lines = random_lines(&mut rng);
                let input = IssueInput {
                    buyer,
                    lines: inputs(&lines, Currency::EUR),
                    due_date: today + chrono::Duration::days(rng.range(0, 60)),
                    note: None,
                };
                let model_lines: Vec<(i64, Vat)> =
                    lines.iter().map(|(n, v, _, _)| (*n, v.clone())).collect();
                if rng.one_in(5) {
                    let id = invoices::create_draft(&tx, &admin(), now, input)
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("draft")));
                    after.drafts.push((id, model_lines, buyer));
                    ("draft", End::Applied)
                } else {
                    let issued = invoices::issue(&tx, now, input)
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("issue")));
                    after.issued(buyer, &issued.lines, &model_lines);
                    let inv = after.invoices.last_mut().unwrap();
                    inv.id = issued.id;
                    assert_eq!(issued.total, eur(inv.gross), "{}", ctx("issue total"));
                    ("issue", End::Applied)
                }
            }
            // Issue a waiting draft.
            22..=25 if !after.drafts.is_empty() => {
                let (id, lines, buyer) = after.drafts.swap_remove(rng.below(after.drafts.len()));
                let issued = invoices::issue_draft(&tx, &admin(), now, id)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("issue draft")));
                after.issued(buyer, &issued.lines, &lines);
                let inv = after.invoices.last_mut().unwrap();
                inv.id = issued.id;
                assert_eq!(issued.total, eur(inv.gross), "{}", ctx("draft total"));
                ("issue_draft", End::Applied)
            }
            // Credit some uncredited lines of an invoice.
            26..=35 => {
                let open: Vec<usize> = (0..after.invoices.len())
                    .filter(|i| after.invoices[*i].lines.iter().any(|l| !l.credited))
                    .collect();
                if open.is_empty() {
                    ("skip", End::Unchanged)
                } else {
                    let i = open[rng.below(open.len())];
                    let uncredited: Vec<usize> = (0..after.invoices[i].lines.len())
                        .filter(|j| !after.invoices[i].lines[*j].credited)
                        .collect();
                    let chosen: Vec<usize> = uncredited
                        .iter()
                        .copied()
                        .filter(|_| rng.one_in(2))
                        .collect();
                    let chosen = if chosen.is_empty() {
                        vec![uncredited[0]]
                    } else {
                        chosen
                    };
                    let ids: Vec<InvoiceLineId> = chosen
                        .iter()
                        .map(|j| after.invoices[i].lines[*j].id)
                        .collect();
                    let note = invoices::credit(&tx, now, after.invoices[i].id, &ids, "Correction")
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("credit")));
                    let gross = after.credit(i, &chosen);
                    assert_eq!(note.total, eur(gross), "{}", ctx("credit note total"));
                    ("credit", End::Applied)
                }
            }
            // Pay part or all of what is due, by hand or through the provider.
            36..=65 => {
                let open: Vec<usize> = (0..after.invoices.len())
                    .filter(|i| after.invoices[*i].due() > 0)
                    .collect();
                if open.is_empty() {
                    ("skip", End::Unchanged)
                } else {
                    let i = open[rng.below(open.len())];
                    let due = after.invoices[i].due();
                    let amount = if rng.one_in(2) {
                        due
                    } else {
                        rng.range(1, due)
                    };
                    let provider = rng.one_in(2);
                    let external = provider.then(|| format!("pi_{seed:x}_{next_ref}"));
                    let method = match &external {
                        Some(x) => Method::Provider {
                            provider: PROVIDER.into(),
                            external_id: x.clone(),
                        },
                        None => Method::Manual,
                    };
                    let id = payments::record(
                        &tx,
                        now,
                        PaymentInput {
                            invoice: after.invoices[i].id,
                            amount: eur(amount),
                            received_on: today,
                            method,
                            reference: format!("Transfer {next_ref}"),
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("payment")));
                    after.pay(i, amount, id, external);
                    (
                        if provider {
                            "provider_payment"
                        } else {
                            "manual_payment"
                        },
                        End::Applied,
                    )
                }
            }
            // A provider replays a payment it already reported: recorded once.
            66..=70 => {
                let provided: Vec<usize> = (0..after.payments.len())
                    .filter(|p| after.payments[*p].external.is_some())
                    .collect();
                if provided.is_empty() {
                    ("skip", End::Unchanged)
                } else {
                    let p = &after.payments[provided[rng.below(provided.len())]];
                    let id = payments::record(
                        &tx,
                        now,
                        PaymentInput {
                            invoice: after.invoices[p.invoice].id,
                            amount: eur(p.amount),
                            received_on: today,
                            method: Method::Provider {
                                provider: PROVIDER.into(),
                                external_id: p.external.clone().unwrap(),
                            },
                            reference: "Replay".into(),
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("payment replay")));
                    assert_eq!(id, p.id, "{}", ctx("a replay answers the first payment"));
                    ("payment_replay", End::Unchanged)
                }
            }
            // Refund part of what is left of a payment (the provider's by refund id, or by hand).
            71..=80 => {
                let refundable: Vec<usize> = (0..after.payments.len())
                    .filter(|p| after.payments[*p].amount > after.payments[*p].refunded)
                    .collect();
                if refundable.is_empty() {
                    ("skip", End::Unchanged)
                } else {
                    let p = refundable[rng.below(refundable.len())];
                    let left = after.payments[p].amount - after.payments[p].refunded;
                    let amount = if rng.one_in(3) {
                        left
                    } else {
                        rng.range(1, left)
                    };
                    match after.payments[p].external.clone() {
                        Some(external_id) => {
                            let refund_id = format!("re_{seed:x}_{next_ref}");
                            payments::refund(
                                &tx,
                                now,
                                &Method::Provider {
                                    provider: PROVIDER.into(),
                                    external_id,
                                },
                                eur(amount),
                                &refund_id,
                            )
                            .await
                            .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("provider refund")));
                            after.refunds.push((p, refund_id));
                        }
                        None => payments::refund_payment(
                            &tx,
                            &admin(),
                            now,
                            after.payments[p].id,
                            eur(amount),
                            &format!("Refund {next_ref}"),
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("manual refund"))),
                    }
                    after.refund(p, amount);
                    ("refund", End::Applied)
                }
            }
            // The provider replays a refund: recorded once.
            81..=83 => {
                if after.refunds.is_empty() {
                    ("skip", End::Unchanged)
                } else {
                    let (p, refund_id) = &after.refunds[rng.below(after.refunds.len())];
                    let p = &after.payments[*p];
                    payments::refund(
                        &tx,
                        now,
                        &Method::Provider {
                            provider: PROVIDER.into(),
                            external_id: p.external.clone().unwrap(),
                        },
                        eur(1),
                        refund_id,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e:?}", ctx("refund replay")));
                    ("refund_replay", End::Unchanged)
                }
            }
            // Operations that must be refused and change nothing.
            _ => {
                let kind = rng.below(6);
                let result = invalid(&tx, &after, &mut rng, kind, now, next_ref).await;
                match result {
                    Some(Err(e)) => {
                        assert!(refused(kind, &e), "{}: {e:?}", ctx("a refusal"));
                        (INVALID[kind], End::Unchanged)
                    }
                    Some(Ok(())) => panic!("{}: accepted", ctx(INVALID[kind])),
                    None => ("skip", End::Unchanged),
                }
            }
        };
        *counts.entry(what).or_default() += 1;
        match end {
            End::Applied if roll_back => {
                // Nothing of it may remain: `model` is still as before the operation.
                tx.rollback().await.unwrap();
                *counts.entry("rolled_back").or_default() += 1;
            }
            End::Applied | End::Unchanged => {
                tx.commit().await.unwrap();
                if !roll_back {
                    model = after;
                }
            }
        }
        if (step + 1) % 2_000 == 0 {
            run.check_balances(&model, step + 1).await;
        }
    }
    run.check_balances(&model, ops).await;
    run.check_below(&model).await;
    println!(
        "billing model: {ops} operations in {:.1?}: {counts:?}",
        started.elapsed()
    );
    assert!(
        model.invoices.len() > 100 && model.issued_credit_notes > 10 && !model.refunds.is_empty()
            || ops < 1_000,
        "the run exercised too little (seed {seed:#x}): {counts:?}"
    );
    run.app.stop().await;
}

const INVALID: [&str; 6] = [
    "overpayment",
    "credit_of_credited_line",
    "foreign_currency_payment",
    "foreign_currency_line",
    "refund_above_left",
    "refund_of_unknown_payment",
];

/// One operation that must be refused; None when the model has nothing to try it on.
async fn invalid(
    tx: &TenantTx,
    model: &Model,
    rng: &mut Rng,
    kind: usize,
    now: DateTime<Utc>,
    n: u64,
) -> Option<Result<(), Error>> {
    let today = now.date_naive();
    let pay = |invoice: InvoiceId, amount: Money| PaymentInput {
        invoice,
        amount,
        received_on: today,
        method: Method::Manual,
        reference: format!("Refused {n}"),
    };
    Some(match kind {
        0 => {
            let i = rng.below(model.invoices.len().max(1));
            let inv = model.invoices.get(i)?;
            let over = inv.due() + rng.range(1, 10_000);
            let r = payments::record(tx, now, pay(inv.id, eur(over))).await;
            if let Err(Error::RefusedWith { code, figures, .. }) = &r {
                assert_eq!(*code, "OVERPAYMENT");
                assert_eq!(figures, &vec![("dueMinor", inv.due())]);
            }
            r.map(|_| ())
        }
        1 => {
            let (inv, line) = model.invoices.iter().find_map(|inv| {
                inv.lines
                    .iter()
                    .find(|l| l.credited)
                    .map(|l| (inv.id, l.id))
            })?;
            invoices::credit(tx, now, inv, &[line], "Twice")
                .await
                .map(|_| ())
        }
        2 => {
            let inv = model.invoices.iter().find(|i| i.due() > 0)?;
            payments::record(tx, now, pay(inv.id, Money::new(1, Currency::USD)))
                .await
                .map(|_| ())
        }
        3 => {
            let lines = random_lines(rng);
            let buyer = model.invoices.first()?.buyer;
            invoices::issue(
                tx,
                now,
                IssueInput {
                    buyer,
                    lines: inputs(&lines, Currency::USD),
                    due_date: today,
                    note: None,
                },
            )
            .await
            .map(|_| ())
        }
        4 => {
            let p = model.payments.get(rng.below(model.payments.len().max(1)))?;
            let above = eur(p.amount - p.refunded + rng.range(1, 1_000));
            payments::refund_payment(tx, &admin(), now, p.id, above, "Too much").await
        }
        _ => {
            let unknown = Method::Provider {
                provider: PROVIDER.into(),
                external_id: format!("pi_unknown_{n}"),
            };
            payments::refund(tx, now, &unknown, eur(1), &format!("re_unknown_{n}")).await
        }
    })
}

fn admin() -> Principal {
    Principal::Operator {
        operator: OperatorId::new(),
    }
}

#[tokio::test]
async fn ten_thousand_billing_operations_match_the_model_on_postgres() {
    model_run(Backend::Postgres, OPS).await;
}

#[tokio::test]
async fn three_thousand_billing_operations_match_the_model_on_sqlite() {
    model_run(Backend::Sqlite, OPS_SQLITE).await;
}
