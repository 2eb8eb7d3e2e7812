//! Prometheus metrics: requests by GraphQL operation and outcome, latency, pool use, jobs run.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    pub operation: String,
    /// `ok`, or the first error's code.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: &'static str,
}

/// Operation names are chosen by clients: past this many distinct names, the rest count as
/// "other", so the series cannot grow without bound.
pub const MAX_OPERATION_LABELS: usize = 200;

pub struct Metrics {
    registry: Mutex<Registry>,
    operations: Mutex<std::collections::HashSet<String>>,
    pub requests: Family<OpLabels, Counter>,
    pub latency: Family<OpLabels, Histogram, fn() -> Histogram>,
    pub pool: Family<PoolLabels, Gauge>,
    /// Sign-in limit decisions counted in memory because Redis did not answer.
    pub limiter_fallbacks: Counter,
    /// 1 while sign-in limits are counted per instance (Redis away), else 0.
    pub limiter_degraded: Gauge,
    /// Scheduled jobs run by this gateway, by outcome (`done`, `failed`).
    pub jobs: Family<JobLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("spaces");
        let requests = Family::<OpLabels, Counter>::default();
        let latency = Family::<OpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations by name and outcome",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL operation latency",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool.clone(),
        );
        let limiter_fallbacks = Counter::default();
        let limiter_degraded = Gauge::default();
        registry.register(
            "limiter_fallback",
            "Sign-in limit decisions counted in process memory because Redis did not answer",
            limiter_fallbacks.clone(),
        );
        registry.register(
            "limiter_degraded",
            "1 while sign-in limits are counted per instance because Redis is away",
            limiter_degraded.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs",
            "Scheduled jobs run by this gateway, by outcome (failed ones are retried)",
            jobs.clone(),
        );
        Self {
            jobs,
            limiter_fallbacks,
            limiter_degraded,
            registry: Mutex::new(registry),
            operations: Mutex::default(),
            requests,
            latency,
            pool,
        }
    }
}

impl Metrics {
    pub fn observe(&self, operation: &str, outcome: &str, seconds: f64) {
        let name: String = operation.chars().take(64).collect();
        let operation = match self.operations.lock() {
            Ok(mut seen) if seen.contains(&name) || seen.len() < MAX_OPERATION_LABELS => {
                seen.insert(name.clone());
                name
            }
            _ => "other".to_owned(),
        };
        let labels = OpLabels {
            operation,
            outcome: outcome.to_owned(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    pub fn render(&self, pool: (u32, u32)) -> String {
        self.pool
            .get_or_create(&PoolLabels { state: "open" })
            .set(pool.0 as i64);
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(pool.1 as i64);
        let mut out = String::new();
        if let Ok(r) = self.registry.lock() {
            let _ = encode(&mut out, &r);
        }
        out
    }
}
