//! File and folder dialogs behind a trait, so tests can answer them without a desktop.
//!
//! # Telling a cancel from a failure
//!
//! [`RfdPicker`] shows the desktop's own dialogs through `rfd`: on Linux the XDG desktop
//! portal (over D-Bus), and zenity when the portal is not there. When neither works, `rfd`
//! returns `None`, exactly as for a cancel, and only *logs* the failure (`log::error!`,
//! "Failed to pick file with zenity: …"). Left alone, every dialog of the editor would then
//! silently do nothing. So [`FilePicker`] answers with [`Picked`], which keeps the two apart:
//!
//! * Before trying, a cheap check (Linux and the BSDs): with no zenity on `PATH` and no
//!   D-Bus session bus (neither `DBUS_SESSION_BUS_ADDRESS` nor `$XDG_RUNTIME_DIR/bus`), no
//!   dialog can possibly appear, so the answer is [`Picked::Unavailable`] at once.
//! * Otherwise the `rfd` call runs under a thread-scoped tracing subscriber
//!   ([`tracing::subscriber::with_default`]) whose layer records the events logged during
//!   the call. `tracing-subscriber`'s `init()` in `main` installs `tracing-log`'s bridge, which
//!   hands each `log` record to the *current* dispatcher, so `rfd`'s records reach the layer.
//!   The verdict is the *last* event at WARN or above whose target (normalized with
//!   [`NormalizeEvent`]: bridged records carry target `log` until then) starts with `rfd`:
//!   when the call returned no path and that event is an ERROR, no dialog was shown. Only the
//!   last one counts because `rfd` also logs errors for a portal that failed *before* it
//!   falls back to zenity ("Failed to connect to session bus", then the warning "Using
//!   zenity fallback"); if zenity then shows its dialog and the person cancels, nothing more
//!   is logged, and that is a cancel. When zenity fails too, its error comes last ("Failed
//!   to pick file with zenity: …"). A path that came back is always a choice. The sync `rfd`
//!   API logs all of this on the calling thread, which is why a thread-scoped subscriber
//!   sees it. Everything recorded is logged again afterwards, so the log loses nothing.
//!
//! This depends on `rfd` logging its failures (checked by reading rfd 0.17's backends, and
//! covered by a test of the layer); a future `rfd` that stops logging would make failures
//! look like cancels again, but never the other way round: a cancel is never taken for a
//! failure unless `rfd` logged an error. Once a dialog failed, the picker remembers it and
//! answers `Unavailable` at once from then on: trying again costs a D-Bus time-out each time
//! and a desktop does not grow a portal while the editor runs.
//!
//! The editor answers `Unavailable` with its own in-window dialog
//! ([`super::file_dialog`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Extensions the Open dialog offers (everything [`crate::io::open`] reads).
pub const OPEN_EXTENSIONS: [&str; 11] = [
    "png", "jpg", "jpeg", "webp", "tiff", "tif", "bmp", "gif", "psd", "psb", "ora",
];

/// The answer of a file dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Picked {
    /// The person chose this path.
    Path(PathBuf),
    /// The person closed the dialog without choosing.
    Cancelled,
    /// No dialog could be shown; the text says why (for the log and the status line).
    Unavailable(String),
}

impl From<Option<PathBuf>> for Picked {
    /// `Some` is a choice, `None` a cancel (what a dialog that cannot fail answers).
    fn from(path: Option<PathBuf>) -> Self {
        path.map_or(Self::Cancelled, Self::Path)
    }
}

/// Asks the person for paths.
pub trait FilePicker {
    /// A picture to open.
    fn open(&mut self) -> Picked;
    /// A file to write, suggesting `default_name`; `ext` (no dot) is the format's extension.
    fn save(&mut self, default_name: &str, ext: &str) -> Picked;
    /// A folder to write into (or to read a model from).
    fn folder(&mut self) -> Picked;
}

/// Native dialogs through `rfd` (the XDG desktop portal on Linux, zenity as fallback); see
/// the module docs for how it notices that neither works.
///
/// Remembers the last folder used so that each dialog starts there.
#[derive(Debug, Default)]
pub struct RfdPicker {
    last_dir: Option<PathBuf>,
    /// Why the last try showed no dialog; later calls answer `Unavailable` at once.
    unavailable: Option<String>,
}

impl RfdPicker {
    /// A picker whose first dialog starts in `dir` (e.g. the opened file's folder).
    pub fn starting_in(dir: Option<&Path>) -> Self {
        Self {
            last_dir: dir.map(Path::to_path_buf),
            unavailable: None,
        }
    }

    fn dialog(&self) -> rfd::FileDialog {
        let dialog = rfd::FileDialog::new();
        match &self.last_dir {
            Some(dir) => dialog.set_directory(dir),
            None => dialog,
        }
    }

    /// Runs one `rfd` dialog, unless dialogs are known not to work, and tells a failure from
    /// a cancel (module docs).
    fn run(
        &mut self,
        is_dir: bool,
        show: impl FnOnce(rfd::FileDialog) -> Option<PathBuf>,
    ) -> Picked {
        if self.unavailable.is_none() {
            self.unavailable = no_dialog_possible();
        }
        if let Some(why) = &self.unavailable {
            return Picked::Unavailable(why.clone());
        }
        let dialog = self.dialog();
        let (picked, failure) = watch_rfd(|| show(dialog));
        if let (None, Some(failure)) = (&picked, failure) {
            let why = format!("the system file dialog failed: {failure}");
            self.unavailable = Some(why.clone());
            return Picked::Unavailable(why);
        }
        if let Some(path) = &picked {
            let dir = if is_dir {
                Some(path.as_path())
            } else {
                path.parent()
            };
            self.last_dir = dir.map(Path::to_path_buf);
        }
        picked.into()
    }
}

impl FilePicker for RfdPicker {
    fn open(&mut self) -> Picked {
        self.run(false, |dialog| {
            dialog
                .set_title("Open picture")
                .add_filter("Pictures and layered files", &OPEN_EXTENSIONS)
                .add_filter("All files", &["*"])
                .pick_file()
        })
    }

    fn save(&mut self, default_name: &str, ext: &str) -> Picked {
        self.run(false, |dialog| {
            dialog
                .set_title(format!("Export {}", ext.to_ascii_uppercase()))
                .set_file_name(default_name)
                .add_filter(ext.to_ascii_uppercase(), &[ext])
                .save_file()
                .map(|path| with_extension(path, ext))
        })
    }

    fn folder(&mut self) -> Picked {
        self.run(true, |dialog| {
            dialog.set_title("Choose a folder").pick_folder()
        })
    }
}

/// Why no native dialog can be shown, found without trying (module docs); `None` if one
/// might be.
fn no_dialog_possible() -> Option<String> {
    if !cfg!(all(
        unix,
        not(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "android"
        ))
    )) {
        return None;
    }
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let zenity = env("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("zenity").is_file()));
    let bus = env("DBUS_SESSION_BUS_ADDRESS").is_some()
        || env("XDG_RUNTIME_DIR").is_some_and(|dir| Path::new(&dir).join("bus").exists());
    (!zenity && !bus).then(|| "no D-Bus session for the desktop portal, and no zenity".into())
}

/// Runs `call` with a thread-scoped subscriber that records what is logged meanwhile;
/// returns its result and, if the last warning or error that `rfd` logged is an error, that
/// error's message (module docs). What was recorded is logged again afterwards, through the
/// global subscriber.
pub fn watch_rfd<T>(call: impl FnOnce() -> T) -> (T, Option<String>) {
    let capture = Capture::default();
    let events = Arc::clone(&capture.events);
    let subscriber = tracing_subscriber::registry().with(capture);
    let result = tracing::subscriber::with_default(subscriber, call);
    let events = std::mem::take(&mut *events.lock().unwrap_or_else(PoisonError::into_inner));
    let mut last_from_rfd = None;
    for event in events {
        let text = format!("{}: {}", event.target, event.message);
        match event.level {
            Level::ERROR => tracing::error!("{text}"),
            Level::WARN => tracing::warn!("{text}"),
            Level::INFO => tracing::info!("{text}"),
            _ => tracing::debug!("{text}"),
        }
        if event.level <= Level::WARN && event.target.starts_with("rfd") {
            last_from_rfd = Some(event);
        }
    }
    let failure = last_from_rfd
        .filter(|event| event.level == Level::ERROR)
        .map(|event| event.message);
    (result, failure)
}

/// One event logged during a watched call.
#[derive(Debug)]
struct Captured {
    level: Level,
    target: String,
    message: String,
}

/// The layer of [`watch_rfd`]'s subscriber: keeps every event it sees.
#[derive(Default)]
struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        // A `log` record arrives with target "log"; its own target is in its fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut message = Message::default();
        event.record(&mut message);
        let captured = Captured {
            level: *meta.level(),
            target: meta.target().to_string(),
            message: message.0,
        };
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(captured);
    }
}

/// The `message` field of an event.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Adds `.ext` unless the path already ends with it (some dialogs drop the extension).
pub fn with_extension(path: PathBuf, ext: &str) -> PathBuf {
    let has_it = path
        .extension()
        .and_then(|e| e.to_str())
        // A PSD export named `.psb` asks for the large document format: keep it.
        .is_some_and(|e| {
            e.eq_ignore_ascii_case(ext) || ext == "psd" && e.eq_ignore_ascii_case("psb")
        });
    if has_it {
        path
    } else {
        let mut name = path.into_os_string();
        name.push(".");
        name.push(ext);
        PathBuf::from(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_added_once() {
        assert_eq!(
            with_extension("a/b".into(), "psd"),
            PathBuf::from("a/b.psd")
        );
        assert_eq!(
            with_extension("a/b.PSD".into(), "psd"),
            PathBuf::from("a/b.PSD")
        );
        assert_eq!(
            with_extension("a/b.png".into(), "ora"),
            PathBuf::from("a/b.png.ora")
        );
        assert_eq!(
            with_extension("a/b.psb".into(), "psd"),
            PathBuf::from("a/b.psb")
        );
    }

    #[test]
    fn an_error_that_rfd_logs_is_a_failure() {
        // What `main` installs: `log` records go to the current tracing dispatcher. Another
        // test of this binary may have installed it already.
        let _ = tracing_log::LogTracer::init();
        let (answer, failure) = watch_rfd(|| {
            tracing_log::log::warn!(target: "rfd::backend::xdg_desktop_portal", "Using zenity fallback");
            tracing_log::log::error!(
                target: "rfd::backend::xdg_desktop_portal",
                "Failed to pick file with zenity: No such file or directory"
            );
            None::<PathBuf>
        });
        assert_eq!(answer, None);
        let failure = failure.as_deref().unwrap_or_default();
        assert!(
            failure.contains("Failed to pick file with zenity"),
            "{failure:?}"
        );
    }

    #[test]
    fn a_portal_error_followed_by_the_zenity_fallback_is_no_failure() {
        // The portal failed, zenity showed its dialog and the person cancelled it.
        let _ = tracing_log::LogTracer::init();
        let (_, failure) = watch_rfd(|| {
            tracing_log::log::error!(
                target: "rfd::backend::xdg_desktop_portal::portal::libdbus",
                "Failed to connect to session bus: no socket"
            );
            tracing_log::log::warn!(target: "rfd::backend::xdg_desktop_portal", "Using zenity fallback");
        });
        assert_eq!(failure, None);
    }

    #[test]
    fn warnings_and_other_crates_errors_are_no_failure() {
        let _ = tracing_log::LogTracer::init();
        let (_, failure) = watch_rfd(|| {
            tracing_log::log::warn!(target: "rfd::backend", "Using zenity fallback");
            tracing_log::log::error!(target: "zbus", "unrelated");
            tracing::error!(target: "wgpu", "unrelated too");
        });
        assert_eq!(failure, None);
    }

    /// The real thing, on a desktop without the portal and zenity. Ignored because it needs
    /// that setup, and would show a real dialog elsewhere. Run it as
    /// `DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent PATH=/usr/bin:/bin cargo test --lib
    /// ui::picker -- --ignored` (a session bus address makes the quick check pass, so `rfd`
    /// is really called and fails).
    #[test]
    #[ignore = "needs a desktop without the XDG portal and zenity"]
    fn rfd_without_portal_or_zenity_is_unavailable_not_cancelled() {
        let _ = tracing_log::LogTracer::init();
        let mut picker = RfdPicker::default();
        let first = picker.open();
        assert!(
            matches!(&first, Picked::Unavailable(why) if why.contains("zenity")),
            "{first:?}"
        );
        // Known now: answered without trying again.
        assert!(matches!(
            picker.save("a.psd", "psd"),
            Picked::Unavailable(_)
        ));
    }

    /// The portal fails and zenity shows its dialog, which the person cancels: a cancel, not
    /// a failure, though `rfd` logged the portal's error. Run it with the address above and a
    /// stand-in `zenity` that exits 1 (what zenity does on Cancel) first on `PATH`.
    #[test]
    #[ignore = "needs a stand-in zenity that cancels, first on PATH"]
    fn rfd_with_a_cancelled_zenity_is_a_cancel() {
        let _ = tracing_log::LogTracer::init();
        assert_eq!(RfdPicker::default().open(), Picked::Cancelled);
    }

    #[test]
    fn a_tracing_error_from_rfd_counts_too() {
        let (_, failure) = watch_rfd(|| tracing::error!(target: "rfd", "no portal"));
        assert_eq!(failure.as_deref(), Some("no portal"));
    }
}
