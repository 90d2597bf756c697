//! Flow-matching Euler sampling, as diffusers' `FlowMatchEulerDiscreteScheduler` runs it for
//! the layered pipeline: sigmas spaced evenly from 1 towards 0, shifted by the resolution-
//! dependent `mu` ("dynamic shifting"), optionally stretched to end at `shift_terminal`; each
//! step moves the latents by `(σ_next − σ) · v` along the predicted velocity.
//!
//! The arithmetic is done in `f32` in the same order as diffusers (which computes the schedule
//! in NumPy `float32`), so the schedules agree to the last bit or two.

use candle_core::{DType, Result, Tensor};

/// The scheduler's settings, read from `scheduler/scheduler_config.json` (diffusers' field
/// names; absent fields take diffusers' defaults).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct SchedulerConfig {
    /// Timesteps the model was trained with; `t = σ · num_train_timesteps`.
    pub num_train_timesteps: u32,
    /// Fixed shift, used only without dynamic shifting.
    pub shift: f32,
    /// Shift by the pipeline's `mu` (Qwen-Image: true).
    pub use_dynamic_shifting: bool,
    /// Where the stretched schedule ends, if set (Qwen-Image: 0.02).
    pub shift_terminal: Option<f32>,
    /// "exponential" (Qwen-Image) or "linear".
    pub time_shift_type: String,
    /// Karras/exponential/beta sigma schedules and stochastic sampling are not used by
    /// Qwen-Image; a config asking for them is refused rather than silently misread.
    pub use_karras_sigmas: bool,
    /// See `use_karras_sigmas`.
    pub use_exponential_sigmas: bool,
    /// See `use_karras_sigmas`.
    pub use_beta_sigmas: bool,
    /// See `use_karras_sigmas`.
    pub stochastic_sampling: bool,
    /// See `use_karras_sigmas` (Mochi only).
    pub invert_sigmas: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            num_train_timesteps: 1000,
            shift: 1.0,
            use_dynamic_shifting: false,
            shift_terminal: None,
            time_shift_type: "exponential".into(),
            use_karras_sigmas: false,
            use_exponential_sigmas: false,
            use_beta_sigmas: false,
            stochastic_sampling: false,
            invert_sigmas: false,
        }
    }
}

/// The pipeline's `mu` for dynamic shifting: the square root of the condition image's token
/// count relative to a 256×256 picture (256 tokens after 8× VAE and 2×2 packing).
pub fn layered_mu(condition_tokens: usize) -> f64 {
    let base = 256.0 * 256.0 / 16.0 / 16.0;
    (condition_tokens as f64 / base).sqrt()
}

/// A sampling schedule: the model is evaluated at each of `timesteps`, and `sigmas` (one
/// longer, ending at 0) say how far each step moves.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Noise levels, `steps + 1` values from about 1 down to 0.
    pub sigmas: Vec<f32>,
    /// Model timesteps, `σ · num_train_timesteps` for each step.
    pub timesteps: Vec<f32>,
}

/// Why a schedule cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    /// Zero steps.
    #[error("at least one denoising step is needed")]
    NoSteps,
    /// A setting this implementation does not support.
    #[error("scheduler setting not supported: {0}")]
    Unsupported(String),
}

impl SchedulerConfig {
    /// The layered pipeline's schedule for `steps` steps: sigmas `linspace(1, 0, steps+1)`
    /// without the final 0, shifted by `mu`, stretched to `shift_terminal`, then 0 appended.
    pub fn schedule(&self, steps: usize, mu: f64) -> std::result::Result<Schedule, ScheduleError> {
        if steps == 0 {
            return Err(ScheduleError::NoSteps);
        }
        let unsupported = [
            (self.use_karras_sigmas, "use_karras_sigmas"),
            (self.use_exponential_sigmas, "use_exponential_sigmas"),
            (self.use_beta_sigmas, "use_beta_sigmas"),
            (self.stochastic_sampling, "stochastic_sampling"),
            (self.invert_sigmas, "invert_sigmas"),
        ];
        if let Some((_, name)) = unsupported.iter().find(|(on, _)| *on) {
            return Err(ScheduleError::Unsupported(name.to_string()));
        }
        // NumPy's linspace(1.0, 0, steps + 1) in float64, then cast to float32.
        let mut sigmas: Vec<f32> = (0..steps)
            .map(|i| (1.0 - i as f64 / steps as f64) as f32)
            .collect();
        if self.use_dynamic_shifting {
            // NumPy turns the Python float into the array's float32 before the arithmetic.
            let e = mu.exp() as f32;
            let linear = match self.time_shift_type.as_str() {
                "exponential" => false,
                "linear" => true,
                other => {
                    return Err(ScheduleError::Unsupported(format!(
                        "time_shift_type {other}"
                    )));
                }
            };
            let scale = if linear { mu as f32 } else { e };
            for s in &mut sigmas {
                *s = scale / (scale + (1.0 / *s - 1.0));
            }
        } else {
            let shift = self.shift;
            for s in &mut sigmas {
                *s = shift * *s / (1.0 + (shift - 1.0) * *s);
            }
        }
        // With one step the only sigma is 1 and the stretch would divide 0 by 0 (diffusers
        // then samples with NaN); one step from 1 to 0 is the sensible reading.
        if let Some(terminal) = self.shift_terminal.filter(|t| *t != 0.0 && steps > 1) {
            let last = 1.0 - sigmas[steps - 1];
            let scale = last / (1.0 - terminal);
            for s in &mut sigmas {
                *s = 1.0 - (1.0 - *s) / scale;
            }
        }
        let train = self.num_train_timesteps as f32;
        let timesteps = sigmas.iter().map(|s| s * train).collect();
        sigmas.push(0.0);
        Ok(Schedule { sigmas, timesteps })
    }
}

impl Schedule {
    /// Number of model evaluations.
    pub fn steps(&self) -> usize {
        self.timesteps.len()
    }

    /// One Euler step from step `index`: `sample + (σ[index+1] − σ[index]) · velocity`,
    /// computed in `f32` and returned in the velocity's dtype, as diffusers does.
    pub fn step(&self, index: usize, velocity: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let (Some(sigma), Some(next)) = (self.sigmas.get(index), self.sigmas.get(index + 1)) else {
            candle_core::bail!("step {index} is beyond a {}-step schedule", self.steps());
        };
        let dt = f64::from(next - sigma);
        let velocity32 = velocity.to_dtype(DType::F32)?;
        let moved = (sample.to_dtype(DType::F32)? + (velocity32 * dt)?)?;
        moved.to_dtype(velocity.dtype())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;

    fn qwen() -> SchedulerConfig {
        // Qwen-Image's scheduler_config.json, as far as it matters here.
        SchedulerConfig {
            use_dynamic_shifting: true,
            shift_terminal: Some(0.02),
            ..SchedulerConfig::default()
        }
    }

    #[test]
    fn schedule_starts_near_one_ends_at_the_terminal_and_then_zero() {
        let schedule = qwen().schedule(10, layered_mu(1600)).unwrap();
        assert_eq!(schedule.sigmas.len(), 11);
        assert_eq!(schedule.steps(), 10);
        assert!((schedule.sigmas[0] - 1.0).abs() < 1e-6);
        assert!(
            (schedule.sigmas[9] - 0.02).abs() < 1e-6,
            "{:?}",
            schedule.sigmas
        );
        assert_eq!(schedule.sigmas[10], 0.0);
        assert!(schedule.sigmas.windows(2).all(|w| w[0] > w[1]));
        assert!((schedule.timesteps[0] - 1000.0).abs() < 1e-3);
    }

    #[test]
    fn mu_follows_the_condition_size() {
        assert!((layered_mu(256) - 1.0).abs() < 1e-12);
        assert!((layered_mu(1600) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn euler_step_moves_by_the_sigma_difference() {
        let schedule = SchedulerConfig::default().schedule(4, 0.0).unwrap();
        let device = candle_core::Device::Cpu;
        let sample = Tensor::new(&[1.0f32, 2.0], &device).unwrap();
        let velocity = Tensor::new(&[4.0f32, -8.0], &device).unwrap();
        let next = schedule.step(0, &velocity, &sample).unwrap();
        // σ: 1, 0.75, 0.5, 0.25, 0 → dt = −0.25.
        assert_eq!(next.to_vec1::<f32>().unwrap(), [0.0, 4.0]);
        assert!(schedule.step(4, &velocity, &sample).is_err());
    }

    #[test]
    fn unsupported_settings_are_refused_by_name() {
        let karras = SchedulerConfig {
            use_karras_sigmas: true,
            ..qwen()
        };
        let err = karras.schedule(4, 1.0).unwrap_err();
        assert!(err.to_string().contains("use_karras_sigmas"));
        assert_eq!(qwen().schedule(0, 1.0), Err(ScheduleError::NoSteps));
    }
}
