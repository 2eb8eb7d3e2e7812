//! JSON logs through `tracing`; each request runs in a span carrying its request id and tenant,
//! so every line it logs carries them too.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

pub fn init() {
    let filter = EnvFilter::try_from_env("SPACES_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("SPACES_LOG_FORMAT").is_ok_and(|v| v == "text");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE);
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .try_init()
    };
}
