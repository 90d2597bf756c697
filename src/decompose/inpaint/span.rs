//! Sub-ranges of a [`ScopedProgress`], so each stage of a fill reports its own share.

use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;

/// A window `start..end` of a scoped progress. Cheap to copy and `Sync`, so rayon workers can
/// check for cancellation through it.
#[derive(Clone, Copy)]
pub(crate) struct Span<'a> {
    scoped: &'a ScopedProgress<'a>,
    start: f32,
    end: f32,
}

impl<'a> Span<'a> {
    /// The whole of `scoped`.
    pub fn new(scoped: &'a ScopedProgress<'a>) -> Self {
        Self {
            scoped,
            start: 0.0,
            end: 1.0,
        }
    }

    /// The part `a..b` (fractions of this span).
    pub fn sub(&self, a: f32, b: f32) -> Span<'a> {
        let len = self.end - self.start;
        Span {
            scoped: self.scoped,
            start: self.start + len * a.clamp(0.0, 1.0),
            end: self.start + len * b.clamp(0.0, 1.0),
        }
    }

    pub fn set(&self, fraction: f32, stage: &str) {
        self.scoped.set(
            self.start + (self.end - self.start) * fraction.clamp(0.0, 1.0),
            stage,
        );
    }

    pub fn check(&self) -> Result<(), DecomposeError> {
        self.scoped.check()
    }
}
