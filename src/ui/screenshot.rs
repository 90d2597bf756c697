//! `STRATA_SCREENSHOT=path.png`: the window saves a picture of itself on its third frame (or
//! frame `STRATA_SCREENSHOT_FRAME`) and closes. Used to check the window in CI (under Xvfb) and to make the README screenshot.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Environment variable naming the PNG to write.
pub const ENV_VAR: &str = "STRATA_SCREENSHOT";
/// Optional environment variable: the frame to capture instead of [`DEFAULT_FRAME`].
pub const FRAME_ENV_VAR: &str = "STRATA_SCREENSHOT_FRAME";
/// The frame captured by default: by then panels have settled their sizes.
const DEFAULT_FRAME: u32 = 3;
/// Give up (and close) if the capture has not arrived this many frames after asking.
const GIVE_UP_AFTER: u32 = 300;

/// Captures the window once and then closes it.
#[derive(Debug)]
pub struct ScreenshotHook {
    path: PathBuf,
    capture_frame: u32,
    frame: u32,
    requested: bool,
    done: Arc<AtomicBool>,
}

impl ScreenshotHook {
    /// A hook if `STRATA_SCREENSHOT` is set to a non-empty path; `STRATA_SCREENSHOT_FRAME`
    /// may pick a later frame.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os(ENV_VAR).filter(|p| !p.is_empty())?;
        let frame = std::env::var(FRAME_ENV_VAR)
            .ok()
            .and_then(|f| f.trim().parse().ok());
        Some(Self::new(
            PathBuf::from(path),
            frame.unwrap_or(DEFAULT_FRAME),
        ))
    }

    /// A hook that writes frame `capture_frame` (counted from 1) to `path`.
    pub fn new(path: PathBuf, capture_frame: u32) -> Self {
        Self {
            path,
            capture_frame: capture_frame.max(1),
            frame: 0,
            requested: false,
            done: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Call once per frame, after drawing. Keeps frames coming until the capture is saved.
    pub fn on_frame(&mut self, ctx: &egui::Context) {
        self.frame += 1;
        let gave_up = self.frame > self.capture_frame.saturating_add(GIVE_UP_AFTER);
        if self.done.load(Ordering::Acquire) || gave_up {
            if gave_up {
                tracing::error!("no screenshot arrived; closing anyway");
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if self.frame >= self.capture_frame && !self.requested {
            self.requested = true;
            let (path, done, waker) = (self.path.clone(), Arc::clone(&self.done), ctx.clone());
            ctx.request_screenshot(move |image| {
                match save(&image, &path) {
                    Ok(()) => tracing::info!("saved screenshot to {}", path.display()),
                    Err(err) => tracing::error!("cannot save screenshot {}: {err}", path.display()),
                }
                done.store(true, Ordering::Release);
                waker.request_repaint();
            });
        }
        // Only while capturing: an ordinary session never repaints without input.
        ctx.request_repaint();
    }
}

/// Writes a captured frame as an opaque PNG.
fn save(image: &egui::ColorImage, path: &std::path::Path) -> image::ImageResult<()> {
    let [w, h] = image.size;
    let mut bytes = Vec::with_capacity(w * h * 4);
    for pixel in &image.pixels {
        // The window is opaque; the surface's alpha channel may not be.
        bytes.extend_from_slice(&[pixel.r(), pixel.g(), pixel.b(), 255]);
    }
    let w = u32::try_from(w).unwrap_or(u32::MAX);
    let h = u32::try_from(h).unwrap_or(u32::MAX);
    image::save_buffer(path, &bytes, w, h, image::ColorType::Rgba8)
}
