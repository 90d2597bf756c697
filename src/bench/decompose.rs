//! `strata bench decompose`: every decomposition method on the same layered scenes, scored
//! with the LayerD / Qwen-Image-Layered protocol (`strata::decompose::eval`): RGB L1 and
//! alpha soft IoU against the ground-truth layers for 0..=5 allowed merges, the
//! reconstruction error of the composite, and wall-clock time per megapixel of the
//! `decompose` call alone. Each method chooses its layer count (`auto`, what a person
//! gets) unless `--true-count` asks it for the scene's true count, as the field's tables do.
//!
//! Scene sets (`--set`): `designs` (the default: 30 designs of real clip art, cards and text
//! over flat, gradient and photo backgrounds, `eval::designs`), `synthetic` (the procedural
//! scenes of `eval::scenes`) and `psd-corpus` (real layered PSDs, see [`super::psd_corpus`]).
//! Besides the methods, a baseline returns the flat picture as one layer: exact, and the
//! floor any layering must beat.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use strata::decompose::eval::{
    self, LayerRequest, Protocol, Scene, SceneResult, SingleLayer, designs,
};
use strata::decompose::registry::{MethodSettings, decomposer_for};
use strata::decompose::{Decomposer, Method, Options};

use super::decompose_report::{self, Outcome};
use super::psd_corpus;

/// Which scenes to measure on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SceneSet {
    /// Designs from real clip art, fonts and photos (`assets/bench/designs`).
    Designs,
    /// Procedural shapes, block text and noise textures.
    Synthetic,
    /// Real layered PSDs with plain pixel layers (`--psd-dir`).
    PsdCorpus,
    /// Thirty more designs from the same templates with seeds no tuning has seen.
    HeldOut,
    /// Thirty designs of three other templates (app screens, card grids, slides).
    Layouts,
}

/// Options of `strata bench decompose`.
pub struct DecomposeBench {
    /// Methods to run; the single-layer baseline always runs too.
    pub methods: Vec<Method>,
    pub set: SceneSet,
    /// Synthetic: number of scenes; designs and PSDs: at most this many (`None`: all).
    pub scenes: Option<usize>,
    /// Canvas size (designs and synthetic; `None`: 768×512 and 512×512).
    pub size: Option<(u32, u32)>,
    pub seed: u64,
    /// LayerD's grouping of non-overlapping top layers before alignment.
    pub group_top_layers: bool,
    /// Ask for each scene's true layer count instead of `auto`.
    pub true_count: bool,
    /// The designs assets folder (`None`: the one in this source tree).
    pub assets: Option<PathBuf>,
    /// The PSD folder of `--set psd-corpus`.
    pub psd_dir: PathBuf,
}

/// Parses `512` (a square) or `384x256`.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let parse = |s: &str| match s.trim().parse::<u32>() {
        Ok(v) if (8..=8192).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a side in 8..=8192")),
    };
    match text.split_once(['x', 'X', '×']) {
        Some((w, h)) => Ok((parse(w)?, parse(h)?)),
        None => parse(text).map(|s| (s, s)),
    }
}

/// The name the baseline has in the tables.
pub const BASELINE: &str = "flat picture (1 layer)";

fn load_scenes(options: &DecomposeBench) -> Result<(Vec<Scene>, String)> {
    match options.set {
        SceneSet::Synthetic => {
            let size = options.size.unwrap_or((512, 512));
            let scenes = eval::suite(options.scenes.unwrap_or(8), options.seed, size);
            let what = format!(
                "{} synthetic scenes at {}×{} (seed {})",
                scenes.len(),
                size.0,
                size.1,
                options.seed
            );
            Ok((scenes, what))
        }
        SceneSet::Designs | SceneSet::HeldOut | SceneSet::Layouts => {
            let size = options.size.unwrap_or((768, 512));
            let dir = options
                .assets
                .clone()
                .unwrap_or_else(designs::Assets::default_dir);
            let assets = designs::Assets::load(&dir)
                .with_context(|| format!("cannot load the designs assets in {}", dir.display()))?;
            let (recipes, label) = match options.set {
                SceneSet::HeldOut => (designs::HELD_OUT, "held-out "),
                SceneSet::Layouts => (designs::LAYOUTS, "layout "),
                _ => (0..designs::SCENES, ""),
            };
            let count = options.scenes.unwrap_or(recipes.len()).min(recipes.len());
            let scenes = recipes
                .take(count)
                .map(|i| designs::scene(&assets, i, size))
                .collect::<Result<Vec<_>, _>>()?;
            let what = format!(
                "{} {label}designs at {}×{} ({} clip-art files, assets in {})",
                scenes.len(),
                size.0,
                size.1,
                assets.clipart_count(),
                dir.display()
            );
            Ok((scenes, what))
        }
        SceneSet::PsdCorpus => {
            let corpus = psd_corpus::load(&options.psd_dir)?;
            let mut scenes = corpus.scenes;
            scenes.truncate(options.scenes.unwrap_or(usize::MAX));
            for (name, reason) in &corpus.skipped {
                tracing::debug!("psd corpus: skipped {name}: {reason}");
            }
            let what = format!(
                "{} layered PSDs from {} ({} files skipped: not plain pixel layers with Normal \
                 blending matching their stored composite, fewer than two layers, repeats or \
                 too large; RUST_LOG=strata::bench=debug lists them)",
                scenes.len(),
                options.psd_dir.display(),
                corpus.skipped.len()
            );
            Ok((scenes, what))
        }
    }
}

pub fn run_decompose(options: &DecomposeBench) -> Result<()> {
    let protocol = Protocol {
        group_top_layers: options.group_top_layers,
        ..Protocol::default()
    };
    let (scenes, what) = load_scenes(options)?;
    println!("{what}, {} threads", rayon::current_num_threads());
    println!(
        "Protocol: LayerD/QIL — top-layer grouping {}, m = 0 LayerD's DTW, 0..={} merges \
         (exact DP), RGB L1 where the truth has alpha > 0, alpha soft IoU",
        if protocol.group_top_layers {
            "on"
        } else {
            "off"
        },
        protocol.max_merges,
    );
    let mut outcomes = Vec::new();
    for &method in &options.methods {
        println!();
        let decomposer = match decomposer_for(method, &MethodSettings::default()) {
            Ok(d) => d,
            Err(err) => {
                println!("{method}: not available in this build ({err})");
                outcomes.push((
                    method.name().to_owned(),
                    Outcome::Unavailable(err.to_string()),
                ));
                continue;
            }
        };
        let method_options = Options {
            method,
            seed: options.seed,
            ..Options::default()
        };
        let outcome = measure(
            method.name(),
            decomposer.as_ref(),
            &method_options,
            &scenes,
            &protocol,
            options.true_count,
        );
        outcomes.push((method.name().to_owned(), outcome));
    }
    println!();
    let baseline_options = Options {
        seed: options.seed,
        ..Options::default()
    };
    let outcome = measure(
        BASELINE,
        &SingleLayer,
        &baseline_options,
        &scenes,
        &protocol,
        options.true_count,
    );
    outcomes.push((BASELINE.to_owned(), outcome));
    println!();
    println!("{what}.");
    decompose_report::print_by_kind(&outcomes);
    println!();
    decompose_report::print_merges(&outcomes);
    Ok(())
}

/// Runs one method on every scene. A method whose first scene fails (missing weights, model
/// folder, feature or device) is reported unavailable instead of failing on every scene.
fn measure(
    name: &str,
    decomposer: &dyn Decomposer,
    options: &Options,
    scenes: &[Scene],
    protocol: &Protocol,
    true_count: bool,
) -> Outcome {
    println!("{name}:");
    let mut results: Vec<SceneResult> = Vec::new();
    let mut failures = 0;
    for scene in scenes {
        let request = if true_count {
            LayerRequest::GroundTruthCount
        } else {
            LayerRequest::AsGiven
        };
        match eval::evaluate(decomposer, scene, options, request, protocol) {
            Ok(result) => {
                decompose_report::print_scene(&result);
                results.push(result);
            }
            // Qwen without its model folder fails with an input error, before any work.
            Err(err) if results.is_empty() && failures == 0 => {
                println!("  not run: the first scene failed: {err}");
                return Outcome::Unavailable(err.to_string());
            }
            Err(err) => {
                failures += 1;
                println!("  {} #{}: failed: {err}", scene.kind.name(), scene.seed);
            }
        }
    }
    Outcome::Scored { results, failures }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("512"), Ok((512, 512)));
        assert_eq!(parse_size("384x256"), Ok((384, 256)));
        assert_eq!(parse_size("384×256"), Ok((384, 256)));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ax3").is_err());
    }
}
