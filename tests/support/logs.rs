//! Log capture for tests: one global subscriber per test binary that keeps an event when the
//! thread emitting it is capturing (a current-thread runtime runs a test's server tasks on
//! its own thread), at every level. Only one binary may use it with no other global
//! subscriber: `hardening`.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Log lines captured for one test thread.
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go, while a test captures them.
    static CAPTURE: std::cell::RefCell<Option<Buffer>> = const { std::cell::RefCell::new(None) };
}

/// Writes into this thread's capture buffer, if any.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(b) = &*c.borrow() {
                b.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops the capture of this thread's logs when dropped.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

/// Installs the one global subscriber of this binary, which keeps an event when the thread
/// emitting it captures (see [`Buffer::capture`]). A thread-scoped default subscriber would
/// not do: tracing caches per callsite whether it is enabled, and another test's thread,
/// logging the same lines without a subscriber, would turn them off here. Every test calls it
/// before anything logs.
pub fn install_log_capture() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Decided per event (a plain `filter_fn` is cached per callsite).
        let capturing = tracing_subscriber::filter::DynFilterFn::new(|_meta, _| {
            CAPTURE.with(|c| c.borrow().is_some())
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(|| ThreadWriter)
            .with_ansi(false)
            .with_filter(capturing);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in this test binary");
    });
}

impl Buffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Captures the log lines of this thread (a current-thread runtime runs every task here).
    pub fn capture(&self) -> CaptureGuard {
        install_log_capture();
        CAPTURE.with(|c| *c.borrow_mut() = Some(self.clone()));
        CaptureGuard
    }
}
