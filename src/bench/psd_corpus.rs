//! Real layered files as benchmark scenes: the PSDs of a folder (by default the ag-psd test
//! corpus in `../shared/fixtures/psd-corpus/`) whose layers are plain pixel layers, so that
//! their full-canvas straight-alpha layers are a ground truth.
//!
//! A file is kept only when it opens, has at least two non-empty layers, every layer is
//! visible with Normal blending, and the flattened layers reproduce the composite Photoshop
//! (or ag-psd) stored in the file (RMSE under 2/255, alpha included): masks, effects,
//! adjustment and text layers that our reader cannot represent change the stored composite,
//! so such files fail that check and are skipped. Everything else is counted as skipped, and
//! so is a file whose layers repeat an earlier file's (ag-psd keeps `*_src.psd` beside the
//! `*_expected.psd` it writes back, often with the same layers).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::path::Path;

use anyhow::{Context as _, Result};
use strata::decompose::LayerSpec;
use strata::decompose::eval::{self, Scene, SceneKind, canvas_layers};
use strata::io::{self, psd};
use strata::model::{BlendMode, Document, RgbaImage};

/// Largest canvas kept (pixels), so that one huge file does not dominate the run time.
const MAX_PIXELS: u64 = 2 << 20;

/// The kept scenes and why the others were skipped.
pub struct Corpus {
    pub scenes: Vec<Scene>,
    /// (file name, reason) for every skipped file, sorted by name.
    pub skipped: Vec<(String, String)>,
}

/// Reads every `*.psd` of `dir` (sorted by name).
pub fn load(dir: &Path) -> Result<Corpus> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("psd")))
        .collect();
    paths.sort();
    let mut corpus = Corpus {
        scenes: Vec::new(),
        skipped: Vec::new(),
    };
    let mut seen = HashSet::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match scene_of(&path, corpus.scenes.len() as u64) {
            Ok(scene) if !seen.insert(fingerprint(&scene)) => {
                corpus
                    .skipped
                    .push((name, "same layers as an earlier file".into()));
            }
            Ok(scene) => corpus.scenes.push(scene),
            Err(reason) => corpus.skipped.push((name, reason)),
        }
    }
    Ok(corpus)
}

/// The file as a scene, or why it is not usable.
fn scene_of(path: &Path, index: u64) -> Result<Scene, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    let limits = io::Limits::default();
    let doc = psd::read(&bytes, &limits).map_err(|e| format!("does not open: {e}"))?;
    if u64::from(doc.width) * u64::from(doc.height) > MAX_PIXELS {
        return Err(format!("larger than {} Mpx", MAX_PIXELS >> 20));
    }
    if let Some(layer) = doc
        .layers
        .iter()
        .find(|l| !l.visible || l.blend != BlendMode::Normal)
    {
        return Err(format!(
            "layer {:?} is hidden or not Normal ({:?})",
            layer.name, layer.blend
        ));
    }
    let reference =
        psd::read_composite(&bytes, &limits).map_err(|e| format!("no stored composite: {e}"))?;
    let (layers, names) = full_canvas_layers(&doc);
    if layers.len() < 2 {
        return Err(format!("{} non-empty layers", layers.len()));
    }
    let scene = Scene {
        kind: SceneKind::Psd,
        seed: index,
        layers,
        names,
    };
    let flat = scene.composite();
    let error = eval::reconstruction(&flat, &reference).map_err(|e| e.to_string())?;
    if error.rmse > 2.0 / 255.0 {
        return Err(format!(
            "layers do not reproduce the stored composite (RMSE {:.1}/255)",
            error.rmse * 255.0
        ));
    }
    Ok(scene)
}

/// The document's non-empty layers on full transparent canvases, opacity in alpha.
fn full_canvas_layers(doc: &Document) -> (Vec<RgbaImage>, Vec<String>) {
    let specs: Vec<LayerSpec> = doc
        .layers
        .iter()
        .map(|l| {
            let mut spec = LayerSpec::new(l.name.clone(), (*l.pixels).clone(), l.offset);
            spec.opacity = l.opacity;
            spec
        })
        .collect();
    canvas_layers(&specs, (doc.width, doc.height))
        .into_iter()
        .zip(doc.layers.iter().map(|l| l.name.clone()))
        .filter(|(image, _)| image.as_raw().chunks_exact(4).any(|p| p[3] > 0))
        .unzip()
}

/// A hash of the scene's layers (sizes and pixels), to drop repeated files.
fn fingerprint(scene: &Scene) -> u64 {
    let mut hasher = DefaultHasher::new();
    for layer in &scene.layers {
        layer.dimensions().hash(&mut hasher);
        layer.as_raw().hash(&mut hasher);
    }
    hasher.finish()
}
