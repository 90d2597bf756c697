//! Faults while writing and reading: a `strata convert` killed at random points, a full disk,
//! an unwritable folder, writers that fail mid-way, and hostile files read under a hard
//! memory ceiling. See TESTING.md.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Rng, assert_same_layers, patterned_image};
use strata::io::{self, psd};
use strata::model::{Document, Offset};

fn strata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_strata"))
}

/// Runs the `strata` binary with `args` through `sh`, after `setup` (shell commands such as
/// `ulimit`), and returns its output.
fn strata_under(setup: &str, args: &[&str]) -> Output {
    let script = format!("{setup}; exec \"$0\" \"$@\"");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A document big enough that writing it takes a while: four 1024×1024 patterned layers.
fn large_document() -> Document {
    let mut rng = Rng::new(7);
    let mut doc = Document::new(1024, 1024);
    for i in 0..4 {
        let layer = doc.push_layer(format!("layer {i}"), patterned_image(&mut rng, 1024, 1024));
        layer.offset = Offset { x: i * 3, y: -i };
        layer.opacity = 0.25 + 0.25 * i as f32;
    }
    doc
}

fn small_document() -> Document {
    let mut rng = Rng::new(1);
    let mut doc = Document::new(16, 8);
    doc.push_layer("old", patterned_image(&mut rng, 16, 8));
    doc
}

/// Files in `dir` other than `keep`: only our own hidden `.strata-*.part` temporaries may be
/// left by a killed writer (it cannot clean up after SIGKILL); nothing else may appear.
fn stray_files(dir: &Path, keep: &[&Path]) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .filter(|p| !keep.contains(&p.as_path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            !name.is_some_and(|n| n.starts_with(".strata-") && n.ends_with(".part"))
        })
        .collect()
}

/// Our own hidden `.strata-*.part` temporaries in `dir`.
fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .is_some_and(|n| n.starts_with(".strata-") && n.ends_with(".part"))
        })
        .collect()
}

#[test]
fn a_convert_killed_at_any_moment_leaves_the_old_file_or_the_complete_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.psd");
    let target = dir.path().join("target.psd");
    let expected = large_document();
    io::save(&expected, &source).expect("write source");
    io::save(&small_document(), &target).expect("write old target");
    let old = std::fs::read(&target).expect("old bytes");

    // How long one full conversion takes here, to spread the kills over it.
    let started = Instant::now();
    let status = strata()
        .args(["convert", "-o"])
        .arg(dir.path().join("timing.psd"))
        .arg(&source)
        .status()
        .expect("convert runs");
    assert!(status.success());
    let full = started.elapsed();

    // Kill moments are drawn across [0, window]. The window starts a little past one measured
    // run and shrinks whenever a kill came too late (the machine may be slower or busier than
    // when we measured), so that most kills land while the process reads or writes.
    let mut window = full.mul_f64(1.1);
    let mut rng = Rng::new(42);
    let (mut interrupted, mut completed, mut mid_write) = (0, 0, 0);
    for round in 0..60 {
        if interrupted >= 8 && mid_write >= 4 {
            break;
        }
        let at = window.mul_f64(f64::from(rng.below(1000)) / 1000.0);
        let mut child = strata()
            .args(["convert", "-o"])
            .arg(&target)
            .arg(&source)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn convert");
        std::thread::sleep(at);
        let still_running = child.try_wait().expect("poll").is_none();
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let now = std::fs::read(&target).expect("target still exists");
        if now == old {
            interrupted += usize::from(still_running);
        } else {
            let doc = io::open(&target).unwrap_or_else(|err| {
                panic!("round {round}: killed after {at:?}, target is neither old nor whole: {err}")
            });
            assert_same_layers(&expected, &doc);
            completed += 1;
            window = window.mul_f64(0.7);
            // Start the next round from the old file again.
            std::fs::write(&target, &old).expect("reset target");
        }
        // A killed writer leaves its temporary file behind: that kill landed mid-write.
        let temporaries = temporary_files(dir.path());
        if !temporaries.is_empty() {
            mid_write += 1;
            for t in temporaries {
                std::fs::remove_file(t).expect("remove the temporary");
            }
        }
        let strays = stray_files(
            dir.path(),
            &[&source, &target, &dir.path().join("timing.psd")],
        );
        assert!(strays.is_empty(), "round {round}: stray files {strays:?}");
    }
    eprintln!(
        "{interrupted} kills hit a running convert, {mid_write} of them mid-write; {completed} \
         came after it (full run {full:?})"
    );
    assert!(
        interrupted >= 8 && mid_write >= 4,
        "only {interrupted} kills hit a running convert, {mid_write} mid-write ({completed} \
         completed); the test must interrupt writes to mean anything"
    );
}

#[test]
fn a_full_disk_fails_the_export_with_the_file_name_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.psd");
    let target = dir.path().join("target.psd");
    io::save(&large_document(), &source).expect("write source");
    io::save(&small_document(), &target).expect("write old target");
    let old = std::fs::read(&target).expect("old bytes");
    let (source_arg, target_arg) = (source.to_string_lossy(), target.to_string_lossy());
    // RLIMIT_FSIZE makes writes past 256 KiB fail with EFBIG, as a full disk fails them with
    // ENOSPC; SIGXFSZ is ignored so the write returns the error instead of killing us.
    let output = strata_under(
        "trap '' XFSZ; ulimit -f 512",
        &["convert", "-o", &target_arg, &source_arg],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("target.psd"), "{stderr}");
    assert!(stderr.to_lowercase().contains("too large"), "{stderr}");
    assert_eq!(std::fs::read(&target).expect("target"), old);
    let strays = stray_files(dir.path(), &[&source, &target]);
    assert!(strays.is_empty(), "{strays:?}");
    let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
    assert_eq!(leftovers, 2, "the failed write removed its temporary file");
}

/// A writer that accepts `room` bytes and then fails, like a disk that fills up.
struct FillsUp {
    room: usize,
}

impl Write for FillsUp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_errors_at_every_stage_surface_as_errors() {
    let doc = small_document();
    let mut whole = Vec::new();
    psd::write(&doc, &mut whole).expect("write");
    // Fail at every byte boundary of the header and sections, then every 97th byte.
    let points = (0..200).chain((200..whole.len()).step_by(97));
    for room in points {
        let err = psd::write(&doc, FillsUp { room }).expect_err("must fail");
        assert!(err.to_string().contains("no space"), "{room}: {err}");
    }
    psd::write(&doc, FillsUp { room: whole.len() }).expect("exactly enough room");
}

#[test]
fn an_unwritable_folder_fails_the_export_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A path under a regular file cannot be created by anyone, root included (file
    // permissions would not stop root, who runs CI).
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").expect("blocker");
    let target = blocker.join("out.psd");
    let err = io::save(&small_document(), &target).expect_err("unwritable");
    assert!(err.to_string().contains("not-a-folder"), "{err}");
    assert_eq!(std::fs::read(&blocker).expect("blocker intact"), b"x");
}

/// Hostile files, each refused with a clear error naming it while the process runs under a
/// hard address-space ceiling: were anything allocated beyond `--max-memory`, the allocation
/// would fail and the process abort instead of exiting with status 1.
#[test]
fn hostile_files_are_refused_within_a_hard_memory_ceiling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = hostile_files(dir.path());
    // 256 MiB of layers, readers peak at about 2.25× that, plus the process itself.
    let ceiling = "ulimit -v 800000";
    for (path, needle) in &files {
        let arg = path.to_string_lossy();
        let output = strata_under(ceiling, &["--max-memory", "256", "info", &arg]);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}: not a clean refusal: {stderr}",
            path.display()
        );
        let name = path.file_name().expect("name").to_string_lossy();
        assert!(stderr.contains(name.as_ref()), "names the file: {stderr}");
        assert!(
            stderr.contains(needle),
            "{}: '{stderr}' lacks '{needle}'",
            path.display()
        );
    }
    // The ceiling binds: without the memory option the PNG bomb (within the default limits)
    // really tries to allocate its gigabyte, and that fails.
    let bomb = dir.path().join("bomb.png");
    let output = strata_under(ceiling, &["info", &bomb.to_string_lossy()]);
    assert_ne!(
        output.status.code(),
        Some(0),
        "the bomb cannot decode under the ceiling"
    );
    // And an ordinary file opens fine under it.
    let fine = dir.path().join("fine.psd");
    io::save(&small_document(), &fine).expect("fine file");
    let output = strata_under(
        ceiling,
        &["--max-memory", "256", "info", &fine.to_string_lossy()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Writes the hostile files; returns each with a phrase its error must contain.
fn hostile_files(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut files = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>, needle: &'static str| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write hostile file");
        files.push((path, needle));
    };
    add("bomb.png", png_claiming(16_000, 16_000), "beyond the limit");
    add("wide.png", png_claiming(30_001, 1), "beyond the limit");
    add("empty.png", png_claiming(0, 0), "");
    add(
        "huge.psd",
        psd_header(30_000, 30_000, &[]),
        "beyond the limit",
    );
    let mut lying = psd_header(64, 64, &[]);
    // A layer section that claims 2 GiB more than the file holds.
    lying.extend(0x7fff_fff0u32.to_be_bytes());
    add("lying-length.psd", lying, "");
    add("zero.psd", psd_header(0, 0, &[]), "no pixels");
    add("truncated.psd", b"8BPS\x00\x01\x00\x00".to_vec(), "");
    let bomb_layer = png_claiming(16_000, 16_000);
    add(
        "bomb.ora",
        ora(
            r#"<image w="16000" h="16000"><stack><layer src="data/a.png"/></stack></image>"#,
            &bomb_layer,
        ),
        "beyond the limit",
    );
    add(
        "slip.ora",
        ora(
            r#"<image w="4" h="4"><stack><layer src="../../../etc/passwd"/></stack></image>"#,
            &bomb_layer,
        ),
        "passwd",
    );
    files
}

/// A PNG whose header claims `width`×`height` RGBA and whose data is a few hundred rows of
/// zeros, compressed a thousandfold: a decompression bomb.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let row = vec![0u8; 1 + width as usize * 4];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..height.min(64) {
        z.write_all(&row).expect("deflate");
    }
    let idat = z.finish().expect("deflate");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &idat), (b"IEND", &[])] {
        png.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png.extend(kind);
        png.extend(data);
        png.extend(crc.sum().to_be_bytes());
    }
    png
}

/// A PSD header (RGB, 8-bit, 4 channels) and empty colour-mode and resource sections.
fn psd_header(width: u32, height: u32, rest: &[u8]) -> Vec<u8> {
    let mut out = b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04".to_vec();
    out.extend(height.to_be_bytes());
    out.extend(width.to_be_bytes());
    out.extend([0, 8, 0, 3]);
    out.extend([0; 8]);
    out.extend(rest);
    out
}

fn ora(stack: &str, layer: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [
        ("mimetype", &b"image/openraster"[..]),
        ("stack.xml", stack.as_bytes()),
        ("data/a.png", layer),
    ] {
        zip.start_file(name, stored).expect("zip entry");
        zip.write_all(data).expect("zip data");
    }
    zip.finish().expect("zip").into_inner()
}

#[test]
fn failed_export_in_the_editor_keeps_the_document_open_and_unchanged() {
    use strata::ui::{Command as Edit, StrataApp};
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").expect("blocker");
    let mut app = StrataApp::new(small_document());
    let id = app.document().layers[0].id;
    app.apply(Edit::SetVisible(id, false));
    let before = app.document().clone();
    app.apply(Edit::ExportAs(blocker.join("out.psd")));
    assert!(
        app.wait_for_files(Duration::from_secs(30)),
        "export finished"
    );
    assert!(app.document().is_same_state(&before));
    let message = app.messages().last().expect("a message");
    assert!(message.text.contains("not-a-folder"), "{}", message.text);
    assert!(app.is_dirty(), "a failed export is not a save");
}
