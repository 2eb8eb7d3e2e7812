//! The jobs worker: every `SPACES_JOBS_INTERVAL_SECS` it runs the scheduled work that is due
//! (renewals, invoice runs, overdue marking..) by the app's clock, each job in its space's
//! transaction. Several gateways may run it at once: claims skip each other's jobs.

use std::sync::Arc;

use spaces_tenants::jobs;

use crate::app::AppState;
use crate::metrics::JobLabels;

/// The worker loop; none when the interval is 0.
pub fn spawn_jobs_worker(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    if state.config.jobs_interval.is_zero() {
        tracing::info!("SPACES_JOBS_INTERVAL_SECS is 0: this gateway runs no scheduled jobs");
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.jobs_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match jobs::run_due(&state.deps.db, &state.deps.clock, &state.jobs).await {
                Ok(ran) if ran != jobs::Ran::default() => {
                    let count = |outcome, n: usize| {
                        state
                            .metrics
                            .jobs
                            .get_or_create(&JobLabels { outcome })
                            .inc_by(n as u64);
                    };
                    count("done", ran.done);
                    count("failed", ran.failed);
                    tracing::info!(done = ran.done, failed = ran.failed, "scheduled jobs ran");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "jobs pass failed; retrying next tick"),
            }
        }
    }))
}
