//! Progress reporting and cancellation shared between a worker and the UI.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::DecomposeError;

/// A cheap, cloneable handle: the worker writes, the UI reads and may cancel.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// `f32` bits of the fraction done, 0..=1.
    fraction: AtomicU32,
    stage: Mutex<String>,
    cancelled: AtomicBool,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records how far the work is (clamped to 0..=1) and what it is doing.
    pub fn set(&self, fraction: f32, stage: &str) {
        let fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self.inner
            .fraction
            .store(fraction.to_bits(), Ordering::Relaxed);
        if let Ok(mut current) = self.inner.stage.lock()
            && *current != stage
        {
            stage.clone_into(&mut current);
        }
    }

    /// Fraction done, 0..=1.
    pub fn fraction(&self) -> f32 {
        f32::from_bits(self.inner.fraction.load(Ordering::Relaxed))
    }

    /// What the work is doing now.
    pub fn stage(&self) -> String {
        self.inner
            .stage
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancel was asked for; methods call this in their loops.
    pub fn check(&self) -> Result<(), DecomposeError> {
        if self.is_cancelled() {
            Err(DecomposeError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A view of this progress covering `start..end` of the whole, for one stage of a method.
    pub fn scoped(&self, start: f32, end: f32) -> ScopedProgress<'_> {
        ScopedProgress {
            progress: self,
            start,
            end,
        }
    }
}

/// Maps a stage's own 0..=1 onto its share of the whole.
pub struct ScopedProgress<'a> {
    progress: &'a Progress,
    start: f32,
    end: f32,
}

impl ScopedProgress<'_> {
    pub fn set(&self, fraction: f32, stage: &str) {
        self.progress.set(
            self.start + (self.end - self.start) * fraction.clamp(0.0, 1.0),
            stage,
        );
    }

    pub fn check(&self) -> Result<(), DecomposeError> {
        self.progress.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_is_seen_by_clones() {
        let progress = Progress::new();
        let worker = progress.clone();
        assert!(worker.check().is_ok());
        progress.cancel();
        assert_eq!(worker.check(), Err(DecomposeError::Cancelled));
    }

    #[test]
    fn scoped_maps_into_range() {
        let progress = Progress::new();
        progress.scoped(0.5, 0.75).set(0.5, "half of a quarter");
        assert!((progress.fraction() - 0.625).abs() < 1e-6);
        assert_eq!(progress.stage(), "half of a quarter");
    }
}
