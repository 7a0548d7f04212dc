//! The engine's own thread: a single-threaded runtime that runs the binds, their sessions and
//! the supervisor. When the engine shares the runtime's workers with the HTTP front, a bind
//! woken by its SMSC's answers waits behind every connection task ready before it; under
//! overload the window was refilled late and the SMSC received about two thirds of what it
//! could take. On a thread of its own, the bind is scheduled by the kernel as soon as it is
//! woken, whatever the front's load.

use std::io;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The thread and its runtime; the runtime stops when this is dropped (after the engine's
/// shutdown: the tasks still on it then are dropped with it).
pub struct EngineThread {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl EngineThread {
    /// Starts the thread (named `otpgate-smpp`).
    pub fn start() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("otpgate-smpp")
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("otpgate-smpp".into())
            .spawn(move || {
                // ends when the sender is dropped; the runtime is dropped here, off any runtime
                runtime.block_on(async move {
                    let _ = stopped.await;
                });
            })?;
        Ok(Self {
            handle,
            _stop: stop,
        })
    }

    /// Where the engine's tasks run: start the engine inside `handle().enter()`.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_tasks_on_its_own_thread_until_dropped() {
        let engine = EngineThread::start().unwrap();
        let name = engine
            .handle()
            .block_on(
                engine
                    .handle()
                    .spawn(async { std::thread::current().name().map(str::to_owned) }),
            )
            .unwrap();
        assert_eq!(name.as_deref(), Some("otpgate-smpp"));
        // a task that never ends on its own is dropped with the runtime when the thread stops
        struct Dropped(std::sync::mpsc::Sender<()>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let held = Dropped(tx);
        drop(engine.handle().spawn(async move {
            let _held = held;
            std::future::pending::<()>().await
        }));
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        drop(engine);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the runtime stops with the thread");
    }
}
