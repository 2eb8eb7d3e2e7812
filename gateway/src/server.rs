//! The HTTP server loop: HTTP/1.1 on hyper with a header-read timeout and a cap on connections
//! that slow clients cannot exhaust.
//!
//! Every connection holds one of `SPACES_MAX_CONNECTIONS` slots. A connection that is not
//! serving a request (a new one whose client has not finished its headers, or an idle
//! keep-alive one) is only waiting; when a new connection finds every slot taken, the oldest
//! waiting connection is closed to make room. So clients that open connections and dribble
//! their headers (or never send any) can hold slots only until newer clients need them, and at
//! most for the header-read timeout; a connection serving a request is never closed for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::sync::{Notify, Semaphore, watch};

use crate::config::Config;

/// One connection as the accept loop sees it.
#[derive(Default)]
struct Slot {
    /// Requests being answered on it right now.
    busy: AtomicUsize,
    /// Asked to close to make room.
    evicted: AtomicBool,
    evict: Notify,
}

/// Connections by the order they were accepted in (oldest first).
#[derive(Default)]
struct Slots {
    next: Mutex<(u64, BTreeMap<u64, Arc<Slot>>)>,
}

impl Slots {
    fn add(&self) -> (u64, Arc<Slot>) {
        let slot = Arc::new(Slot::default());
        let mut g = self.next.lock().unwrap_or_else(|p| p.into_inner());
        g.0 += 1;
        let id = g.0;
        g.1.insert(id, slot.clone());
        (id, slot)
    }

    fn remove(&self, id: u64) {
        let mut g = self.next.lock().unwrap_or_else(|p| p.into_inner());
        g.1.remove(&id);
    }

    /// Asks the oldest connection that is serving nothing to close. False when every
    /// connection is serving a request.
    fn evict_oldest_waiting(&self) -> bool {
        let g = self.next.lock().unwrap_or_else(|p| p.into_inner());
        for slot in g.1.values() {
            if slot.busy.load(Ordering::Acquire) == 0 && !slot.evicted.swap(true, Ordering::AcqRel)
            {
                slot.evict.notify_one();
                return true;
            }
        }
        false
    }
}

/// Counts a request on its connection for as long as it is being answered, even if the
/// connection drops it midway.
struct Busy(Arc<Slot>);

impl Busy {
    fn new(slot: &Arc<Slot>) -> Self {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Self(slot.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let max = config.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    let slots = Arc::new(Slots::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: make room by closing the oldest connection that serves nothing, or
                // wait for one to end.
                slots.evict_oldest_waiting();
                tokio::select! {
                    () = &mut shutdown => break,
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let (id, slot) = slots.add();
        let router = router.clone();
        let counted = slot.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                let busy = Busy::new(&counted);
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo::<SocketAddr>(peer));
                let answer = tower::Service::call(&mut router.clone(), req);
                async move {
                    let r = answer.await;
                    drop(busy);
                    r
                }
            },
        );
        let conn = http
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop_rx.clone();
        let slots = slots.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
                () = slot.evict.notified() => {
                    // Serving nothing: dropping the connection closes it at once (a graceful
                    // close would wait for headers that may never come). A request that began
                    // in the meantime is answered first.
                    if slot.busy.load(Ordering::Acquire) > 0 {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            }
            slots.remove(id);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends: having them all back means done.
    let _ = permits
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await;
}
