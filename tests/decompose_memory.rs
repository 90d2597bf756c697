//! The peak heap of decomposing a photograph and saving the layers as PSD, counted by a
//! global allocator that tracks the peak of live heap bytes. Issue 13 asks for a peak of at
//! most twice the document's pixels plus the model. Its own test binary, with one test, so
//! nothing else allocates while it measures.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod common;

use image::RgbaImage;
use peak_alloc::PeakAlloc;
use strata::decompose::methods::elements::ElementsDecomposer;
use strata::decompose::{Decomposer as _, Options, Progress, apply};
use strata::model::Document;

use common::memory::{mib, model_working_set, photo, working_set};

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

#[test]
fn decomposing_and_saving_a_photo_peaks_below_twice_the_document_plus_the_model() {
    let (w, h) = (3200u32, 2400u32);
    let picture = photo(w, h);
    // The networks' weights are loaded here, once for the process, and are part of the
    // model in the budget, as is their working memory.
    let model = model_working_set(&HEAP, &picture);

    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let specs = ElementsDecomposer
        .decompose(&picture, &Options::default(), &Progress::new())
        .unwrap();
    let mut doc = Document::new(w, h);
    apply::replace_document(&mut doc, specs);
    let decomposing = HEAP.peak_usage();
    let saving = working_set(&HEAP, || {
        strata::io::psd::write(&doc, std::io::sink()).unwrap()
    });
    let peak = decomposing.max(HEAP.peak_usage());

    let document: usize = doc.layers.iter().map(|l| l.pixels.as_raw().len()).sum();
    // What was live before, less the picture (which the peak counts as the document's):
    // the networks' weights and the process's own state.
    let weights = before.saturating_sub(picture.as_raw().len());
    println!(
        "{} layers, document {:.1} MiB, weights and state {:.1} MiB, networks' working set \
         {:.1} MiB, peak {:.1} MiB",
        doc.layers.len(),
        mib(document),
        mib(weights),
        mib(model),
        mib(peak)
    );
    assert!(
        doc.layers.len() >= 2,
        "the ladybird is an object of its own"
    );
    // Saving holds the composite (one canvas) and one channel's code (a quarter): channels
    // are coded from the pixels as they are written. Holding every encoded channel, or the
    // composite's four planes with their codes and a copy of the section, took over four.
    let canvas = 4 * w as usize * h as usize;
    println!("saving: {:.2} canvases", saving as f64 / canvas as f64);
    assert!(
        saving <= canvas * 3 / 2,
        "saving took {:.1} MiB, over 1.5 canvases",
        mib(saving)
    );
    // Before this bound, a 12-megapixel run peaked with the picture held three times over
    // at full size, the U²-Net-P activations five times at 320×320, and every encoded PSD
    // channel held twice.
    assert!(
        peak <= 2 * document + weights + model,
        "peak {:.1} MiB over 2 × {:.1} MiB + {:.1} MiB + {:.1} MiB",
        mib(peak),
        mib(document),
        mib(weights),
        mib(model)
    );
    #[cfg(target_os = "linux")]
    command_line_stays_within(&picture, 2 * document + weights + model);
}

/// The same budget (`budget`, the heap's) for the command line decomposing `picture`, as
/// resident memory. On top of the heap, that counts what the allocator keeps of freed
/// blocks (glibc's per-thread arenas held 60 MiB more before `main` asked for one arena)
/// and the program's own pages, which `strata info` on a tiny picture measures.
#[cfg(target_os = "linux")]
fn command_line_stays_within(picture: &RgbaImage, budget: usize) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    picture.save(&input).unwrap();
    let output = dir.path().join("photo.psd");
    let tiny = dir.path().join("tiny.png");
    RgbaImage::new(4, 4).save(&tiny).unwrap();
    let program = cli_peak_kib(&["info", tiny.to_str().unwrap()]) << 10;
    let resident = cli_peak_kib(&[
        "decompose",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]) << 10;
    println!(
        "command line: peak resident {:.1} MiB, of which the program {:.1} MiB",
        mib(resident),
        mib(program)
    );
    assert!(
        resident <= budget + program,
        "peak resident {:.1} MiB over the budget {:.1} MiB + the program {:.1} MiB",
        mib(resident),
        mib(budget),
        mib(program)
    );
}

/// The peak resident memory, in KiB, that `strata ARGS` logs at `info` on its way out.
#[cfg(target_os = "linux")]
fn cli_peak_kib(args: &[&str]) -> usize {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("MALLOC_ARENA_MAX")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    log.lines()
        .find_map(|l| l.split("peak resident memory: ").nth(1))
        .and_then(|v| v.trim().trim_end_matches("KiB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in the log: {log}"))
}
