//! Pieces the hand-run benchmarks share: their settings from the environment, percentiles and
//! where their reports go.

use std::path::PathBuf;

/// A number from the environment; unset or blank is `None`, anything else must parse.
pub fn env_number<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a number")),
        _ => Ok(None),
    }
}

/// The nearest-rank percentile `p` (0 to 100) of sorted samples; 0 for none.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds as milliseconds.
pub fn ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

/// `<target dir>/<file>`, where the JSON report of a benchmark goes.
pub fn report_path(file: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map(|root| root.join("target"))
                .unwrap_or_else(|| PathBuf::from("target"))
        })
        .join(file)
}
