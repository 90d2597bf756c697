//! What the memory tests of issue 13 share: the photograph they decompose, the heap that the
//! networks work in, and the peak resident memory of a process. The budget is at most twice
//! the document's pixels plus the model (its weights and its working memory).

#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use image::RgbaImage;
use image::imageops::{self, FilterType};
use peak_alloc::PeakAlloc;
use strata::decompose::methods::elements::{ANALYSIS_SIDE, TEXT_SIDE};
use strata::decompose::nn::{dbnet, u2net};

/// A real photograph (a ladybird on a leaf), scaled up to `w`×`h`: larger than the
/// decomposer's analysis copy, so its layers are solved again at full size.
pub fn photo(w: u32, h: u32) -> RgbaImage {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/bench/designs/photos/ladybird.jpg"
    );
    let small = image::open(path).unwrap().to_rgba8();
    imageops::resize(&small, w, h, FilterType::Triangle)
}

/// Peak heap bytes, as `heap` (the test binary's global allocator) counts them, that `run`
/// adds to what is live when it starts.
pub fn working_set(heap: &PeakAlloc, run: impl FnOnce()) -> usize {
    let before = heap.current_usage();
    heap.reset_peak_usage();
    run();
    heap.peak_usage().saturating_sub(before)
}

/// The networks' working memory, on pictures already at the sizes they analyse, so that
/// nothing in it grows with the picture being decomposed: the larger of the text detector's
/// and the saliency network's. Their weights are loaded here, once for the process.
pub fn model_working_set(heap: &PeakAlloc, picture: &RgbaImage) -> usize {
    let fit = |side: u32| {
        let s = f64::from(side) / f64::from(picture.width().max(picture.height()));
        let (w, h) = (picture.width(), picture.height());
        let scaled = |v: u32| (f64::from(v) * s).round() as u32;
        imageops::resize(picture, scaled(w), scaled(h), FilterType::Triangle)
    };
    let (text_size, analysis) = (fit(TEXT_SIDE), fit(ANALYSIS_SIDE));
    let text = working_set(heap, || {
        dbnet::text_map(&text_size, TEXT_SIDE).unwrap();
    });
    let saliency = working_set(heap, || {
        u2net::saliency_raw(&analysis).unwrap();
    });
    println!(
        "working set: text detector {} KiB, saliency {} KiB",
        text >> 10,
        saliency >> 10
    );
    text.max(saliency)
}

/// Bytes as MiB, for messages.
pub fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// This process's peak resident memory so far (Linux's `VmHWM`), in bytes.
#[cfg(target_os = "linux")]
pub fn peak_resident() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status: {status}"));
    kib << 10
}
