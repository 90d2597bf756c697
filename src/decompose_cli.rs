//! `strata decompose`: decompose a picture headless, with a progress bar.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use strata::decompose::jobs::{JobRequest, Jobs, Target};
use strata::decompose::{Decomposer, Options, apply};
use strata::io;
use strata::model::{Document, composite};

/// Decomposes `input` with `decomposer` (built by the registry for `options.method`) and
/// writes the layers to `output`: `.psd`, `.ora`, `.png` (the composite of the layers) or a
/// folder (one PNG per layer).
pub fn run(
    input: &Path,
    output: &Path,
    options: Options,
    limits: &io::Limits,
    decomposer: Box<dyn Decomposer>,
) -> Result<()> {
    let writes_folder = output.is_dir() || output.extension().is_none();
    if !writes_folder && io::ExportFormat::from_path(output).is_none() {
        bail!(
            "{}: name the output .psd, .ora, .png or a folder",
            output.display()
        );
    }
    let mut source = crate::cli::open(input, limits)?;
    // A layered input is decomposed as the picture it shows. A flat one is taken out of the
    // document rather than copied: on a 12-megapixel photo a copy is 48 MB of peak memory.
    let image = match source.layers.pop() {
        Some(layer) if source.layers.is_empty() && layer.offset == Default::default() => {
            Arc::unwrap_or_clone(layer.pixels)
        }
        Some(layer) => {
            source.layers.push(layer);
            composite(&source)
        }
        None => composite(&source),
    };
    drop(source);
    let (width, height) = image.dimensions();

    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut jobs = Jobs::default();
    let request = JobRequest {
        image: Arc::new(image),
        options,
        target: Target::Document,
    };
    jobs.start_with(request, decomposer, || ());
    let finished = loop {
        if let Some(done) = jobs.poll() {
            break done;
        }
        if let Some((_, fraction, stage)) = jobs.running() {
            bar.set_position((fraction * 1000.0) as u64);
            bar.set_message(stage);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    bar.finish_and_clear();
    let specs = finished
        .result
        .with_context(|| format!("{}: decomposition failed", input.display()))?;

    let mut doc = Document::new(width, height);
    apply::replace_document(&mut doc, specs);
    if writes_folder {
        let written = io::export_layers(&doc, output)?;
        println!("wrote {} layer PNGs to {}", written.len(), output.display());
    } else {
        io::save(&doc, output)?;
        println!("wrote {} layers to {}", doc.layers.len(), output.display());
    }
    Ok(())
}
