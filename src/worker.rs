//! One piece of work on a named thread of its own, with its result handed back over a channel.
//!
//! The editor must never block on a decomposition, a file or an autosave, and a bug in one of
//! them must come back as an error instead of taking the window (and the person's work) down.
//! Each of those runners needs the same few things, which live here once: a named thread (it
//! shows in debuggers and panic messages), the panic caught and turned into a message, the
//! result sent back, a wake-up call for the UI, and a non-blocking poll or a bounded wait.
//! What a result means, and what to do with a stale one, stays with each runner.
//!
//! Depends on nothing but `std`, so every layer of the crate may use it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Why a worker delivered no value of its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The work panicked; the panic's message.
    #[error("{0}")]
    Panicked(String),
    /// The thread ended without sending anything (it died outside the work itself).
    #[error("the worker thread stopped without a result")]
    Stopped,
}

/// A running (or finished) piece of work. Dropping it detaches the thread: whatever the work
/// still returns is dropped unread, which is how runners discard results nobody wants.
#[derive(Debug)]
pub struct Worker<T> {
    receiver: Receiver<Result<T, Failure>>,
    handle: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Worker<T> {
    /// Runs `work` on a new thread called `name`. A panic in `work` is caught and delivered
    /// as [`Failure::Panicked`]. `wake` runs on the thread once the result can be taken (the
    /// editor passes `ctx.request_repaint`, as an idle window draws no frame to poll from).
    /// Fails only when the system cannot start a thread.
    pub fn spawn(
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
        wake: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = channel();
        let run = move || {
            let result = catch_unwind(AssertUnwindSafe(work))
                .map_err(|panic| Failure::Panicked(panic_message(panic.as_ref())));
            // The receiver is gone only if the runner dropped this worker: nobody wants it.
            let _ = sender.send(result);
            wake();
        };
        let handle = std::thread::Builder::new().name(name.into()).spawn(run)?;
        Ok(Self {
            receiver,
            handle: Some(handle),
        })
    }

    /// A worker that has already finished with `value`, without a thread: a runner that
    /// fails before it can start one reports through the same path as any other result.
    pub fn finished(value: T) -> Self {
        let (sender, receiver) = channel();
        // The receiver is right here, so the send cannot fail.
        let _ = sender.send(Ok(value));
        Self {
            receiver,
            handle: None,
        }
    }
}

impl<T> Worker<T> {
    /// The result if the work has finished, without blocking; `None` while it runs. The
    /// result is delivered once: after that the worker is spent, to be dropped or joined.
    pub fn poll(&self) -> Option<Result<T, Failure>> {
        match self.receiver.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(Failure::Stopped)),
        }
    }

    /// Blocks up to `timeout` for the result; `None` if the work is still running then.
    pub fn wait(&self, timeout: Duration) -> Option<Result<T, Failure>> {
        match self.receiver.recv_timeout(timeout) {
            Ok(result) => Some(result),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err(Failure::Stopped)),
        }
    }

    /// Waits for the thread to end (after its result was taken, at once). False if the thread
    /// panicked outside the work, in `wake`.
    pub fn join(mut self) -> bool {
        self.handle
            .take()
            .is_none_or(|handle| handle.join().is_ok())
    }
}

/// The message of a caught panic: its `&str` or `String` payload, else "unknown panic".
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(20);

    #[test]
    fn the_result_arrives_and_wakes_the_caller() {
        let (woke, woken) = channel();
        let worker = Worker::spawn(
            "strata-test",
            || 6 * 7,
            move || {
                let _ = woke.send(());
            },
        )
        .expect("spawn");
        assert_eq!(worker.wait(LONG), Some(Ok(42)));
        assert_eq!(woken.recv_timeout(LONG), Ok(()));
        assert!(worker.join());
    }

    #[test]
    fn a_panic_becomes_its_message() {
        let worker =
            Worker::<()>::spawn("strata-test", || panic!("boom {}", 7), || ()).expect("spawn");
        assert_eq!(
            worker.wait(LONG),
            Some(Err(Failure::Panicked("boom 7".into())))
        );
        let worker = Worker::<()>::spawn("strata-test", || std::panic::panic_any(3u8), || ())
            .expect("spawn");
        assert_eq!(
            worker.wait(LONG),
            Some(Err(Failure::Panicked("unknown panic".into())))
        );
    }

    #[test]
    fn poll_does_not_block_and_wait_times_out() {
        let (go, gate) = channel::<()>();
        let worker = Worker::spawn(
            "strata-test",
            move || gate.recv_timeout(LONG).is_ok(),
            || (),
        )
        .expect("spawn");
        assert_eq!(worker.poll(), None);
        assert_eq!(worker.wait(Duration::from_millis(10)), None);
        let _ = go.send(());
        assert_eq!(worker.wait(LONG), Some(Ok(true)));
    }

    #[test]
    fn a_finished_worker_has_its_value_at_once() {
        let worker = Worker::finished("done");
        assert_eq!(worker.poll(), Some(Ok("done")));
        assert!(worker.join());
    }
}
