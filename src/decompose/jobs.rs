//! Running decompositions on a worker thread without ever blocking the UI.
//!
//! One job runs at a time. Starting a new job or cancelling makes the old one stale: it is
//! told to stop, and its worker is dropped with whatever it still returns, so a slow method
//! can never overwrite newer work. A panic inside a method becomes a
//! [`DecomposeError::Panicked`]. The thread itself is [`crate::worker::Worker`]'s.

use std::sync::Arc;
use std::time::Duration;

use super::registry::estimated_peak_bytes;
use super::{DecomposeError, Decomposer, LayerSpec, Options, Progress, validate};
use crate::model::{LayerId, RgbaImage};
use crate::worker::{Failure, Worker};

/// Identifies one started job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobId(u64);

/// What the result of a job will replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// All layers of the document (the input is its composite).
    Document,
    /// One layer, decomposed again into sub-layers in its place.
    Layer(LayerId),
    /// One layer's pixels, replaced in place by the single layer the job returns; the
    /// layer keeps its id, name, position and style (Layer ▸ Fill behind this layer).
    Refill(LayerId),
}

/// A decomposition to run.
#[derive(Clone, Debug)]
pub struct JobRequest {
    pub image: Arc<RgbaImage>,
    pub options: Options,
    pub target: Target,
}

/// A job's outcome, as delivered to the UI.
#[derive(Debug)]
pub struct Finished {
    pub id: JobId,
    pub target: Target,
    pub options: Options,
    pub result: Result<Vec<LayerSpec>, DecomposeError>,
}

type Outcome = Result<Vec<LayerSpec>, DecomposeError>;

struct Running {
    id: JobId,
    target: Target,
    options: Options,
    progress: Progress,
    worker: Worker<Outcome>,
}

impl Running {
    /// The job's [`Finished`] for what its worker delivered.
    fn finish(self, delivered: Result<Outcome, Failure>) -> Finished {
        let result = delivered.unwrap_or_else(|failure| {
            Err(DecomposeError::Panicked {
                method: self.options.method.name().to_string(),
                message: failure.to_string(),
            })
        });
        Finished {
            id: self.id,
            target: self.target,
            options: self.options,
            result,
        }
    }
}

/// Memory a decomposition may use unless told otherwise: 8 GiB, or `STRATA_MEMORY_BUDGET_MB`.
pub const DEFAULT_MEMORY_BUDGET: u64 = 8 << 30;
/// Environment variable that sets the memory budget in MiB.
pub const MEMORY_BUDGET_ENV: &str = "STRATA_MEMORY_BUDGET_MB";

/// The job runner owned by the UI (or the CLI).
pub struct Jobs {
    /// Jobs whose [`estimated_peak_bytes`] exceed this fail at once with
    /// [`DecomposeError::OverMemoryBudget`] instead of running the machine out of memory
    /// (Rust aborts the whole process on a failed allocation, losing the user's work).
    memory_budget: u64,
    next_id: u64,
    running: Option<Running>,
}

impl Default for Jobs {
    fn default() -> Self {
        let memory_budget = std::env::var(MEMORY_BUDGET_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_MEMORY_BUDGET, |mib| mib.saturating_mul(1 << 20));
        Self {
            memory_budget,
            next_id: 1,
            running: None,
        }
    }
}

impl Jobs {
    /// Sets the memory budget for jobs started from now on, in bytes.
    pub fn set_memory_budget(&mut self, bytes: u64) {
        self.memory_budget = bytes;
    }

    /// The memory budget, in bytes.
    pub fn memory_budget(&self) -> u64 {
        self.memory_budget
    }

    /// Starts `request` with `decomposer`: the one
    /// [`decomposer_for`](super::registry::decomposer_for) built for the method its options
    /// name, or one the tests inject (failing, slow, panicking). `wake` is called from the
    /// worker when it finishes (the UI passes `ctx.request_repaint`).
    pub fn start_with(
        &mut self,
        request: JobRequest,
        decomposer: Box<dyn Decomposer>,
        wake: impl Fn() + Send + 'static,
    ) -> JobId {
        self.cancel();
        let id = JobId(self.next_id);
        self.next_id += 1;
        let progress = Progress::new();
        let JobRequest {
            image,
            options,
            target,
        } = request;
        let needed = estimated_peak_bytes(
            options.method,
            image.width(),
            image.height(),
            // An automatic count is estimated at a typical design's layer count; the
            // layers are cropped to their content, so this is conservative.
            options.layers.or(8),
        );
        let budget = self.memory_budget;
        let work = {
            let (options, progress) = (options.clone(), progress.clone());
            move || {
                if needed > budget {
                    return Err(DecomposeError::OverMemoryBudget {
                        needed_mib: needed.div_ceil(1 << 20),
                        budget_mib: budget >> 20,
                    });
                }
                validate(&image, &options)?;
                // The CLI's picture is the job's alone, and can be handed over; the
                // editor's is still the document's, and is only lent.
                match Arc::try_unwrap(image) {
                    Ok(image) => decomposer.decompose_owned(image, &options, &progress),
                    Err(image) => decomposer.decompose(&image, &options, &progress),
                }
            }
        };
        let worker = Worker::spawn("strata-decompose", work, wake).unwrap_or_else(|err| {
            Worker::finished(Err(DecomposeError::Unavailable(format!(
                "cannot start a worker thread: {err}"
            ))))
        });
        self.running = Some(Running {
            id,
            target,
            options,
            progress,
            worker,
        });
        id
    }

    /// Stops the running job; its result, if it still comes, is dropped.
    pub fn cancel(&mut self) {
        if let Some(running) = self.running.take() {
            running.progress.cancel();
            tracing::debug!("cancelled job {:?}; its result will be dropped", running.id);
        }
    }

    /// The running job's id, fraction done and stage, if any.
    pub fn running(&self) -> Option<(JobId, f32, String)> {
        self.running
            .as_ref()
            .map(|r| (r.id, r.progress.fraction(), r.progress.stage()))
    }

    /// What the running job will replace.
    pub fn running_target(&self) -> Option<Target> {
        self.running.as_ref().map(|r| r.target)
    }

    /// The running job's result once it is ready. Results of cancelled or replaced jobs
    /// never come back: their workers were dropped with them.
    pub fn poll(&mut self) -> Option<Finished> {
        let delivered = self.running.as_ref()?.worker.poll()?;
        self.take_finished(delivered)
    }

    /// Blocks up to `timeout` for the running job's result (for the CLI and tests).
    pub fn wait(&mut self, timeout: Duration) -> Option<Finished> {
        let delivered = self.running.as_ref()?.worker.wait(timeout)?;
        self.take_finished(delivered)
    }

    fn take_finished(&mut self, delivered: Result<Outcome, Failure>) -> Option<Finished> {
        self.running.take().map(|running| running.finish(delivered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::Method;
    use crate::model::Offset;

    struct Fixed;
    impl Decomposer for Fixed {
        fn decompose(
            &self,
            image: &RgbaImage,
            _: &Options,
            p: &Progress,
        ) -> Result<Vec<LayerSpec>, DecomposeError> {
            p.set(1.0, "done");
            Ok(vec![LayerSpec::new(
                "all",
                image.clone(),
                Offset::default(),
            )])
        }
    }

    struct Panics;
    impl Decomposer for Panics {
        fn decompose(
            &self,
            _: &RgbaImage,
            _: &Options,
            _: &Progress,
        ) -> Result<Vec<LayerSpec>, DecomposeError> {
            panic!("index out of bounds in a method")
        }
    }

    /// Spins until cancelled.
    struct Slow;
    impl Decomposer for Slow {
        fn decompose(
            &self,
            _: &RgbaImage,
            _: &Options,
            p: &Progress,
        ) -> Result<Vec<LayerSpec>, DecomposeError> {
            loop {
                p.check()?;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Names the layer after how it was given the picture.
    struct Tells;
    impl Decomposer for Tells {
        fn decompose(
            &self,
            image: &RgbaImage,
            _: &Options,
            _: &Progress,
        ) -> Result<Vec<LayerSpec>, DecomposeError> {
            Ok(vec![LayerSpec::new(
                "lent",
                image.clone(),
                Offset::default(),
            )])
        }

        fn decompose_owned(
            &self,
            image: RgbaImage,
            _: &Options,
            _: &Progress,
        ) -> Result<Vec<LayerSpec>, DecomposeError> {
            Ok(vec![LayerSpec::new(
                "handed over",
                image,
                Offset::default(),
            )])
        }
    }

    fn request() -> JobRequest {
        JobRequest {
            image: Arc::new(RgbaImage::new(4, 4)),
            options: Options {
                method: Method::Palette,
                layers: 3.into(),
                seed: 1,
            },
            target: Target::Document,
        }
    }

    const LONG: Duration = Duration::from_secs(20);

    #[test]
    fn result_arrives() {
        let mut jobs = Jobs::default();
        let id = jobs.start_with(request(), Box::new(Fixed), || ());
        let done = jobs.wait(LONG).expect("finished");
        assert_eq!(done.id, id);
        assert_eq!(done.result.expect("ok").len(), 1);
        assert!(jobs.running().is_none());
    }

    #[test]
    fn a_picture_only_the_job_holds_is_handed_over() {
        let name = |request: JobRequest| {
            let mut jobs = Jobs::default();
            jobs.start_with(request, Box::new(Tells), || ());
            let done = jobs.wait(LONG).expect("finished");
            done.result.expect("ok")[0].name.clone()
        };
        assert_eq!(name(request()), "handed over");
        let shared = request();
        let document_copy = Arc::clone(&shared.image);
        assert_eq!(name(shared), "lent");
        drop(document_copy);
    }

    #[test]
    fn panic_becomes_an_error() {
        let mut jobs = Jobs::default();
        jobs.start_with(request(), Box::new(Panics), || ());
        let done = jobs.wait(LONG).expect("finished");
        let err = done.result.expect_err("panicked");
        assert!(err.to_string().contains("index out of bounds"), "{err}");
    }

    #[test]
    fn newer_job_wins_and_stale_results_are_dropped() {
        let mut jobs = Jobs::default();
        let old = jobs.start_with(request(), Box::new(Slow), || ());
        let new = jobs.start_with(request(), Box::new(Fixed), || ());
        assert_ne!(old, new);
        let done = jobs.wait(LONG).expect("finished");
        assert_eq!(done.id, new);
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            jobs.poll().is_none(),
            "the cancelled job's result must be dropped"
        );
    }

    #[test]
    fn cancel_frees_the_runner_at_once() {
        let mut jobs = Jobs::default();
        jobs.start_with(request(), Box::new(Slow), || ());
        assert!(jobs.running().is_some());
        jobs.cancel();
        assert!(jobs.running().is_none());
        assert!(jobs.wait(Duration::from_millis(100)).is_none());
    }

    #[test]
    fn invalid_requests_fail_in_the_worker() {
        let mut jobs = Jobs::default();
        let mut bad = request();
        bad.options.layers = 0.into();
        jobs.start_with(bad, Box::new(Fixed), || ());
        let err = jobs
            .wait(LONG)
            .expect("finished")
            .result
            .expect_err("invalid");
        assert!(err.to_string().contains("layer count"));
    }

    #[test]
    fn a_job_over_the_memory_budget_fails_before_running() {
        let mut jobs = Jobs::default();
        jobs.set_memory_budget(1 << 20);
        // The decomposer would panic if it ran at all.
        jobs.start_with(request(), Box::new(Panics), || ());
        let err = jobs.wait(LONG).expect("finished").result.expect_err("over");
        assert!(
            matches!(err, DecomposeError::OverMemoryBudget { budget_mib: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("1 MiB budget"), "{err}");
    }
}
