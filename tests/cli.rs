//! The headless command line, run as a child process the way scripts use it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{peer_file, tricky_document};

fn strata(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata")
}

fn ok(args: &[&std::ffi::OsStr]) -> String {
    let out = strata(args);
    assert!(
        out.status.success(),
        "strata {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

#[test]
fn info_lists_layers_top_first() {
    let text = ok(&[os("info"), os(&peer_file("krita_from_psd.ora"))]);
    assert!(text.contains("64×48 px, 4 layers"), "{text}");
    let order: Vec<usize> = ["Child ✓ ünï", "Noise (hidden)", "Red box", "Background"]
        .iter()
        .map(|name| {
            text.find(name)
                .unwrap_or_else(|| panic!("{name} missing in {text}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "not top-first: {text}"
    );
    assert!(text.contains("Screen"));
    assert!(text.contains("(-4, -4)"));
}

#[test]
fn convert_between_layered_formats_and_flatten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.ora");
    strata::io::save(&tricky_document(), &source).expect("seed");

    let psd = dir.path().join("out.psd");
    ok(&[os("convert"), os(&source), os("-o"), os(&psd)]);
    let back = strata::io::open(&psd).expect("psd opens");
    common::assert_same_layers(&tricky_document(), &back);

    let ora = dir.path().join("again.ora");
    ok(&[os("convert"), os(&psd), os("-o"), os(&ora)]);
    common::assert_same_layers(&tricky_document(), &strata::io::open(&ora).expect("ora"));

    let flat = dir.path().join("flat.png");
    ok(&[os("flatten"), os(&psd), os("-o"), os(&flat)]);
    let png = image::open(&flat).expect("png").into_rgba8();
    assert!(png == strata::model::composite(&tricky_document()));

    let layers = dir.path().join("layers");
    let text = ok(&[os("export-layers"), os(&psd), os("-o"), os(&layers)]);
    assert!(text.contains("wrote 4 layer PNGs"), "{text}");
    assert_eq!(std::fs::read_dir(&layers).expect("dir").count(), 4);
}

fn assert_fails(args: &[&std::ffi::OsStr], needle: &str) {
    let out = strata(args);
    assert!(!out.status.success(), "strata {args:?} succeeded");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(needle), "stderr lacks '{needle}': {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_arguments_fail_with_clear_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.png");
    assert_fails(&[os("info"), os(&missing)], "nope.png");
    let garbage = dir.path().join("garbage.psd");
    std::fs::write(&garbage, b"8BPS\x00\x01trash").expect("write");
    assert_fails(&[os("info"), os(&garbage)], "garbage.psd");
    let good = dir.path().join("good.ora");
    strata::io::save(&tricky_document(), &good).expect("seed");
    assert_fails(
        &[
            os("flatten"),
            os(&good),
            os("-o"),
            os(&dir.path().join("x.psd")),
        ],
        "*.png",
    );
    assert_fails(
        &[
            os("convert"),
            os(&good),
            os("-o"),
            os(&dir.path().join("x.docx")),
        ],
        "x.docx",
    );
    let unwritable = Path::new("/proc/strata-cannot-write-here.psd");
    assert_fails(
        &[os("convert"), os(&good), os("-o"), os(unwritable)],
        "strata-cannot-write-here.psd",
    );
}

/// Exported files are the person's own: a new one follows the umask of the shell that made
/// it (as `cp` would), an overwritten one keeps its mode. The umask is set in a child shell
/// because a Rust process can only change its own umask through `unsafe` FFI.
#[cfg(unix)]
#[test]
fn exports_follow_the_umask_and_keep_an_overwritten_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.ora");
    strata::io::save(&tricky_document(), &source).expect("seed");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let run_with_umask = |umask: &str, out: &Path| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" convert \"$1\" -o \"$2\""
            ))
            .arg(env!("CARGO_BIN_EXE_strata"))
            .arg(&source)
            .arg(out)
            .status()
            .expect("run strata under sh");
        assert!(
            status.success(),
            "strata convert failed under umask {umask}"
        );
    };
    for ext in ["psd", "ora", "png"] {
        let out = dir.path().join(format!("new.{ext}"));
        run_with_umask("027", &out);
        assert_eq!(mode(&out), 0o640, "new .{ext} under umask 027");
        let shared = dir.path().join(format!("shared.{ext}"));
        run_with_umask("022", &shared);
        assert_eq!(mode(&shared), 0o644, "new .{ext} under umask 022");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o664)).expect("chmod");
        run_with_umask("077", &shared);
        assert_eq!(mode(&shared), 0o664, "overwritten .{ext} keeps its mode");
    }
}

/// `--no-imagemagick` is the person's choice, so the benchmark must not tell them to install
/// ImageMagick. Needs a GPU adapter (lavapipe in CI).
#[test]
fn bench_composite_without_imagemagick_says_why() {
    let out = strata(&[
        os("bench"),
        os("composite"),
        os("--sizes"),
        os("64"),
        os("--layers"),
        os("2"),
        os("--frames"),
        os("1"),
        os("--no-imagemagick"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("no GPU adapter") {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{stderr}");
        eprintln!("skipped: {stderr}");
        return;
    }
    assert!(out.status.success(), "bench failed: {stderr}");
    assert!(
        stdout.contains("ImageMagick: not measured (--no-imagemagick)"),
        "{stdout}"
    );
    assert!(!stdout.contains("install imagemagick"), "{stdout}");
}

#[test]
fn convert_writes_psb_and_says_what_it_converted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.psd");
    strata::io::save(&tricky_document(), &source).expect("seed");
    let psb = dir.path().join("out.psb");
    ok(&[os("convert"), os(&source), os("-o"), os(&psb)]);
    let bytes = std::fs::read(&psb).expect("psb written");
    assert_eq!(bytes[..6], *b"8BPS\0\x02", "a PSB header");
    common::assert_same_layers(
        &tricky_document(),
        &strata::io::open(&psb).expect("psb opens"),
    );

    // A 16-bit greyscale file: one notice on stderr, naming the file and the conversion.
    let deep = dir.path().join("deep.psd");
    let mut file = b"8BPS\0\x01\0\0\0\0\0\0\0\x01".to_vec();
    file.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 16, 0, 1]); // 2×1, 16-bit, grey
    file.extend_from_slice(&[0; 12]); // no colour data, resources or layers
    file.extend_from_slice(&[0, 0, 0xFF, 0xFF, 0, 0]); // raw: white, black
    std::fs::write(&deep, &file).expect("write");
    let out = strata(&[os("info"), os(&deep)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}: converted from 16-bit Grayscale to 8-bit RGB",
        deep.display()
    );
    assert_eq!(stderr.matches(&expected).count(), 1, "{stderr}");
}

#[test]
fn inpaint_fills_the_masked_part_and_names_files_in_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let picture = dir.path().join("stripes.png");
    let truth = image::RgbaImage::from_fn(64, 48, |x, _| {
        if x % 6 < 3 {
            image::Rgba([200, 40, 40, 255])
        } else {
            image::Rgba([30, 30, 150, 255])
        }
    });
    let hole = |x: u32, y: u32| (20..34).contains(&x) && (14..30).contains(&y);
    let mut damaged = truth.clone();
    for (x, y, p) in damaged.enumerate_pixels_mut() {
        if hole(x, y) {
            *p = image::Rgba([0, 255, 0, 255]);
        }
    }
    strata::io::save_png(&damaged, &picture).expect("picture");
    // A grayscale mask (white = hole) and the same hole as a cut-out with transparency.
    let gray = dir.path().join("mask.png");
    image::GrayImage::from_fn(64, 48, |x, y| {
        image::Luma([if hole(x, y) { 255 } else { 0 }])
    })
    .save(&gray)
    .expect("mask");
    let cutout = dir.path().join("cutout.png");
    image::RgbaImage::from_fn(64, 48, |x, y| {
        image::Rgba(if hole(x, y) {
            [10, 10, 10, 255]
        } else {
            [255, 255, 255, 0]
        })
    })
    .save(&cutout)
    .expect("cut-out");
    for mask in [&gray, &cutout] {
        let out = dir.path().join("out.png");
        let said = ok(&[
            os("inpaint"),
            os(&picture),
            os("--mask"),
            os(mask),
            os("-o"),
            os(&out),
        ]);
        assert!(said.contains("out.png"), "{said}");
        let filled = image::open(&out).expect("output").to_rgba8();
        let mut wrong = 0;
        for (x, y, p) in filled.enumerate_pixels() {
            if !hole(x, y) {
                assert_eq!(p, truth.get_pixel(x, y), "({x}, {y}) changed");
            } else if p.0[1] > 200 {
                wrong += 1;
            }
        }
        assert_eq!(wrong, 0, "green damage left in the hole with mask {mask:?}");
    }

    // A hole over all but a 2-pixel frame: the smooth fill, and a note saying so.
    let almost_all = dir.path().join("almost-all.png");
    image::GrayImage::from_fn(64, 48, |x, y| {
        let inside = (2..62).contains(&x) && (2..46).contains(&y);
        image::Luma([if inside { 255 } else { 0 }])
    })
    .save(&almost_all)
    .expect("mask");
    let smooth = dir.path().join("smooth.png");
    let run = strata(&[
        os("inpaint"),
        os(&picture),
        os("--mask"),
        os(&almost_all),
        os("-o"),
        os(&smooth),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("note:") && stderr.contains("smooth fill"),
        "{stderr}"
    );
    assert!(smooth.exists());

    let small = dir.path().join("small.png");
    image::GrayImage::new(32, 48)
        .save(&small)
        .expect("small mask");
    let out = dir.path().join("never.png");
    assert_fails(
        &[
            os("inpaint"),
            os(&picture),
            os("--mask"),
            os(&small),
            os("-o"),
            os(&out),
        ],
        "small.png: the mask is 32×48 but the picture",
    );
    assert_fails(
        &[
            os("inpaint"),
            os(&picture),
            os("--mask"),
            os(&small),
            os("-o"),
            os(&out),
        ],
        "is 64×48",
    );
    let missing = dir.path().join("missing.png");
    assert_fails(
        &[
            os("inpaint"),
            os(&picture),
            os("--mask"),
            os(&missing),
            os("-o"),
            os(&out),
        ],
        "missing.png",
    );
    assert_fails(
        &[
            os("inpaint"),
            os(&picture),
            os("--mask"),
            os(&gray),
            os("-o"),
            os(&dir.path().join("x.psd")),
        ],
        "name the output *.png",
    );
    assert!(!out.exists());
}

#[test]
fn info_prints_the_group_tree_top_first() {
    use image::{GrayImage, RgbaImage};
    use strata::model::{BlendMode, Document, Group, Mask, Offset};

    let mut doc = Document::new(16, 16);
    doc.push_layer("Paper", RgbaImage::new(16, 16));
    let id = doc.allocate_id();
    let mut group = Group::new(id, "Folder");
    group.pass_through = false;
    group.opacity = 0.5;
    group.blend = BlendMode::Multiply;
    group.locked = true;
    doc.insert_group(group);
    let base = doc.push_layer("Ink", RgbaImage::new(4, 4));
    base.parent = Some(id);
    let mut mask = Mask::new(GrayImage::new(3, 2), Offset::new(1, 2), 255);
    mask.density = 0.5;
    mask.enabled = false;
    base.mask = Some(mask);
    let shade = doc.push_layer("Shade", RgbaImage::new(4, 4));
    shade.parent = Some(id);
    shade.clipped = true;
    doc.check_tree().expect("tree");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grouped.ora");
    strata::io::save(&doc, &path).expect("save");

    let text = ok(&[os("info"), os(&path)]);
    assert!(text.contains("16×16 px, 3 layers, 1 group"), "{text}");
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing in {text}"))
    };
    let (folder, shade, ink, paper) = (
        line("▾ Folder"),
        line("↳ Shade"),
        line("  Ink"),
        line("Paper"),
    );
    assert!(
        folder < shade && shade < ink && ink < paper,
        "not top-first: {text}"
    );
    let folder_row = text.lines().nth(folder).unwrap_or_default();
    for needle in ["50.0%", "Multiply", "isolated", "locked"] {
        assert!(folder_row.contains(needle), "{needle} not in {folder_row}");
    }
    assert!(
        text.lines()
            .nth(shade)
            .unwrap_or_default()
            .contains("clipped")
    );
    let mask_row = text.lines().nth(ink + 1).unwrap_or_default();
    for needle in ["mask 3×2", "(1, 2)", "density 50%", "disabled"] {
        assert!(mask_row.contains(needle), "{needle} not in {mask_row}");
    }
    // Members are indented one level deeper than their group.
    let indent = |row: usize| {
        let name_col = text.lines().nth(row).unwrap_or_default();
        name_col.chars().skip(5).take_while(|c| *c == ' ').count()
    };
    assert_eq!(indent(shade), indent(folder) + 2, "{text}");
}
