//! Scheduled work: jobs enqueued in a space's transaction run once when due by the app's clock,
//! in that space; failures are retried with their attempt count; a pending key is not queued
//! twice; two workers never run the same job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use spaces_tenants::jobs::{self, Handlers, Job, JobHandler};
use spaces_tenants::{TenantId, TenantTx};
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

/// Records every run (space, payload `n`, attempt); fails the first `failures` attempts of
/// each job; on success queues a `test.followup` job in the same transaction, so a run that
/// fails must leave none behind.
#[derive(Default)]
struct Recorder {
    runs: Mutex<Vec<(TenantId, i64, u32)>>,
    failures: u32,
}

#[async_trait::async_trait]
impl JobHandler for Recorder {
    fn kinds(&self) -> &'static [&'static str] {
        &["test.count"]
    }

    async fn run(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        job: &Job,
    ) -> spaces_tenants::Result<()> {
        let n = job.payload["n"].as_i64().unwrap_or(-1);
        self.runs
            .lock()
            .unwrap()
            .push((tx.tenant(), n, job.attempt));
        // Let the other worker in, as a real handler's statements would.
        tokio::task::yield_now().await;
        jobs::enqueue(
            tx,
            "test.followup",
            now + Duration::days(365),
            json!({ "after": n }),
            None,
        )
        .await?;
        if job.attempt < self.failures {
            return Err(spaces_tenants::Error::Internal(format!(
                "boom {}",
                job.attempt
            )));
        }
        Ok(())
    }
}

fn tenant(c: &fixtures::Campus) -> TenantId {
    TenantId::from_uuid(c.id.parse().unwrap())
}

async fn enqueue(
    app: &TestApp,
    space: TenantId,
    due: DateTime<Utc>,
    n: std::ops::Range<i64>,
    key: Option<&str>,
) {
    let tx = TenantTx::begin(&app.state.deps.db, space).await.unwrap();
    for i in n {
        jobs::enqueue(&tx, "test.count", due, json!({ "n": i }), key)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn pending(app: &TestApp, kind: &str) -> String {
    app.owner_sql(&format!("SELECT count(*) FROM jobs WHERE kind = '{kind}'"))
        .await
}

#[tokio::test]
async fn two_workers_run_each_of_200_due_jobs_exactly_once_on_postgres() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let now = app.state.deps.clock.now();
    enqueue(&app, tenant(&a), now, 0..100, None).await;
    enqueue(&app, tenant(&b), now - Duration::hours(1), 100..200, None).await;

    let recorder = Arc::new(Recorder::default());
    // Two gateways: each its own handlers, one shared record of what ran.
    let one = Handlers::new(vec![recorder.clone()]);
    let two = Handlers::new(vec![recorder.clone()]);
    let (db, clock) = (&app.state.deps.db, &app.state.deps.clock);
    let (r1, r2) = tokio::join!(
        jobs::run_due(db, clock, &one),
        jobs::run_due(db, clock, &two)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.done + r2.done, 200, "{r1:?} {r2:?}");
    assert_eq!(r1.failed + r2.failed, 0);

    let runs = recorder.runs.lock().unwrap().clone();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for (space, n, attempt) in &runs {
        *seen.entry(*n).or_default() += 1;
        assert_eq!(*attempt, 0);
        // Each ran in its own space.
        assert_eq!(*space, if *n < 100 { tenant(&a) } else { tenant(&b) });
    }
    assert_eq!(seen.len(), 200);
    assert!(seen.values().all(|&c| c == 1), "a job ran twice: {seen:?}");
    assert_eq!(pending(&app, "test.count").await, "0", "done jobs are gone");
    assert_eq!(
        pending(&app, "test.followup").await,
        "200",
        "each run's own writes committed"
    );
    // Nothing left to do.
    assert_eq!(
        jobs::run_due(db, clock, &one).await.unwrap(),
        jobs::Ran::default()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_job_is_retried_with_its_attempt_count_on_postgres() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let (db, clock) = (&app.state.deps.db, &app.state.deps.clock);
    enqueue(&app, tenant(&a), clock.now(), 7..8, None).await;
    let recorder = Arc::new(Recorder {
        failures: 2,
        ..Recorder::default()
    });
    let handlers = Handlers::new(vec![recorder.clone()]);

    let r = jobs::run_due(db, clock, &handlers).await.unwrap();
    assert_eq!((r.done, r.failed), (0, 1));
    let row = app
        .owner_sql("SELECT attempt, last_error, locked_until IS NULL, due_at > now() FROM jobs WHERE kind = 'test.count'")
        .await;
    assert_eq!(
        row, "1|internal error: boom 0|t|t",
        "the failure is recorded, the retry later"
    );
    assert_eq!(
        pending(&app, "test.followup").await,
        "0",
        "a failed run's writes are undone"
    );
    // Not again before its back-off has passed.
    assert_eq!(
        jobs::run_due(db, clock, &handlers).await.unwrap(),
        jobs::Ran::default()
    );

    clock.advance(jobs::backoff(0) + Duration::seconds(1));
    let r = jobs::run_due(db, clock, &handlers).await.unwrap();
    assert_eq!((r.done, r.failed), (0, 1));
    clock.advance(jobs::backoff(1) + Duration::seconds(1));
    let r = jobs::run_due(db, clock, &handlers).await.unwrap();
    assert_eq!((r.done, r.failed), (1, 0));

    let attempts: Vec<u32> = recorder.runs.lock().unwrap().iter().map(|r| r.2).collect();
    assert_eq!(attempts, vec![0, 1, 2]);
    assert_eq!(pending(&app, "test.count").await, "0");
    assert_eq!(pending(&app, "test.followup").await, "1");
    app.stop().await;
}

#[tokio::test]
async fn a_job_waits_for_its_time_and_a_pending_key_is_queued_once_on_postgres() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let (db, clock) = (&app.state.deps.db, &app.state.deps.clock);
    let tomorrow = clock.now() + Duration::days(1);
    // The same key twice in A (one job), another key, no key twice, the same key in B.
    enqueue(&app, tenant(&a), tomorrow, 0..1, Some("term-2027")).await;
    enqueue(&app, tenant(&a), tomorrow, 1..2, Some("term-2027")).await;
    enqueue(&app, tenant(&a), tomorrow, 2..3, Some("term-2028")).await;
    enqueue(&app, tenant(&a), tomorrow, 3..5, None).await;
    enqueue(&app, tenant(&b), tomorrow, 5..6, Some("term-2027")).await;
    assert_eq!(pending(&app, "test.count").await, "5");

    let recorder = Arc::new(Recorder::default());
    let handlers = Handlers::new(vec![recorder.clone()]);
    assert_eq!(
        jobs::run_due(db, clock, &handlers).await.unwrap(),
        jobs::Ran::default()
    );
    assert!(
        recorder.runs.lock().unwrap().is_empty(),
        "nothing is due yet"
    );

    clock.advance(Duration::days(1) + Duration::minutes(1));
    let r = jobs::run_due(db, clock, &handlers).await.unwrap();
    assert_eq!((r.done, r.failed), (5, 0));
    let mut ran: Vec<i64> = recorder.runs.lock().unwrap().iter().map(|r| r.1).collect();
    ran.sort_unstable();
    assert_eq!(
        ran,
        vec![0, 2, 3, 4, 5],
        "the second enqueue of a pending key did nothing"
    );
    // Done, the key is free again.
    enqueue(&app, tenant(&a), tomorrow, 9..10, Some("term-2027")).await;
    assert_eq!(pending(&app, "test.count").await, "1");
    app.stop().await;
}

#[tokio::test]
async fn the_worker_runs_a_due_job_when_the_clock_moves_on_sqlite() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.jobs_interval = std::time::Duration::from_millis(50);
    })
    .await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let (db, clock) = (&app.state.deps.db, &app.state.deps.clock);
    enqueue(&app, tenant(&a), clock.now(), 0..2, None).await;
    // A pending key is queued once here too.
    enqueue(&app, tenant(&a), clock.now(), 10..12, Some("term-2027")).await;
    enqueue(
        &app,
        tenant(&a),
        clock.now() + Duration::hours(2),
        2..3,
        None,
    )
    .await;

    // Called directly: the due jobs run, one at a time, in A.
    let direct = Arc::new(Recorder::default());
    let r = jobs::run_due(db, clock, &Handlers::new(vec![direct.clone()]))
        .await
        .unwrap();
    assert_eq!((r.done, r.failed), (3, 0));
    let mut ran: Vec<(TenantId, i64)> = direct
        .runs
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.0, r.1))
        .collect();
    ran.sort_unstable_by_key(|r| r.1);
    assert_eq!(
        ran,
        vec![(tenant(&a), 0), (tenant(&a), 1), (tenant(&a), 10)]
    );

    // The server's own worker, once it has a handler and the clock has moved.
    let worker = Arc::new(Recorder::default());
    app.state.jobs.register(worker.clone());
    clock.advance(Duration::hours(3));
    // Until the worker reports the job done (metrics count a pass once it has finished).
    let mut waited = 0;
    loop {
        let metrics = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("spaces_jobs_total{outcome=\"done\"} 1") {
            break;
        }
        assert!(waited < 400, "the worker never ran the job: {metrics}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        waited += 1;
    }
    assert_eq!(
        worker
            .runs
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.1)
            .collect::<Vec<_>>(),
        vec![2]
    );
    app.stop().await;
}

/// Panics instead of answering.
struct Panicker;

#[async_trait::async_trait]
impl JobHandler for Panicker {
    fn kinds(&self) -> &'static [&'static str] {
        &["test.panic"]
    }

    async fn run(&self, _: &TenantTx, _: DateTime<Utc>, _: &Job) -> spaces_tenants::Result<()> {
        panic!("a handler bug");
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_and_the_others_still_run_on_sqlite() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let (db, clock) = (&app.state.deps.db, &app.state.deps.clock);
    let tx = TenantTx::begin(db, tenant(&a)).await.unwrap();
    jobs::enqueue(&tx, "test.panic", clock.now(), json!({}), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    enqueue(&app, tenant(&a), clock.now(), 0..1, None).await;

    let recorder = Arc::new(Recorder::default());
    let handlers = Handlers::new(vec![Arc::new(Panicker), recorder.clone()]);
    let r = jobs::run_due(db, clock, &handlers).await.unwrap();
    assert_eq!((r.done, r.failed), (1, 1));
    assert_eq!(recorder.runs.lock().unwrap().len(), 1);

    let conn = crate::ledger::below(&app).await;
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT attempt, last_error FROM jobs WHERE kind = 'test.panic'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
    let error: String = row.try_get_by_index(1).unwrap();
    assert!(error.contains("panicked"), "{error}");
    conn.close().await.unwrap();
    // The space still works (the panicked transaction was rolled back).
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "{ viewer { email } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["viewer"]["email"], a.admin_email);
    app.stop().await;
}
