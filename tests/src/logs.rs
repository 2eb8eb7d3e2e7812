//! The test binary's logs: warnings go to each test's captured output; while a test captures,
//! every line at every level, from every thread, also goes into a buffer it can search (the
//! server's pool and SQLite worker threads log too, so a thread-local subscriber would miss them).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter, fmt};

static CAPTURING: AtomicUsize = AtomicUsize::new(0);
static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct BufferWriter;

impl std::io::Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BUFFER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the subscriber once per test binary.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::registry()
            .with(
                fmt::layer()
                    .with_test_writer()
                    .with_filter(EnvFilter::new("warn")),
            )
            .with(
                // What the server writes at SPACES_LOG=trace, in its JSON form.
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(|| BufferWriter)
                    // Dynamic: asked at every event, never cached per callsite, so lines whose
                    // callsite first ran while nobody captured are captured later too.
                    .with_filter(filter::dynamic_filter_fn(|_, _| {
                        CAPTURING.load(Ordering::Relaxed) > 0
                    })),
            )
            .try_init();
    });
}

/// Every log line at every level from now until `text` is read (lines of tests running at the
/// same time included).
pub struct Capture {
    start: usize,
}

impl Capture {
    pub fn start() -> Self {
        init();
        CAPTURING.fetch_add(1, Ordering::SeqCst);
        let start = BUFFER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        Self { start }
    }

    pub fn text(&self) -> String {
        let b = BUFFER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&b[self.start..]).into_owned()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURING.fetch_sub(1, Ordering::SeqCst);
    }
}
