//! `strata bench decompose`: every available decomposition method on the same synthetic
//! layered scenes, scored with the LayerD / Qwen-Image-Layered protocol
//! (`strata::decompose::eval`): RGB L1 and alpha soft IoU against the ground-truth layers for
//! 0..=5 allowed merges, the reconstruction error of the composite, and wall-clock time per
//! megapixel of the `decompose` call alone. Each method is asked for as many layers as the
//! scene has.

use anyhow::Result;
use strata::decompose::eval::{self, LayerRequest, Protocol, SceneResult, Summary};
use strata::decompose::registry::{MethodSettings, decomposer_for};
use strata::decompose::{Method, Options};

/// Options of `strata bench decompose`.
pub struct DecomposeBench {
    pub methods: Vec<Method>,
    pub scenes: usize,
    pub size: (u32, u32),
    pub seed: u64,
    /// LayerD's grouping of non-overlapping top layers before alignment.
    pub group_top_layers: bool,
    /// Ask for each scene's true layer count instead of `auto`.
    pub true_count: bool,
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

/// What one method achieved, for the closing Markdown table.
enum Outcome {
    Unavailable,
    Scored { summary: Summary, failures: usize },
}

pub fn run_decompose(options: &DecomposeBench) -> Result<()> {
    let protocol = Protocol {
        group_top_layers: options.group_top_layers,
        ..Protocol::default()
    };
    let (w, h) = options.size;
    let scenes = eval::suite(options.scenes, options.seed, options.size);
    println!(
        "{} synthetic scenes at {w}×{h} (seed {}), {} threads",
        scenes.len(),
        options.seed,
        rayon::current_num_threads()
    );
    println!(
        "Protocol: LayerD/QIL — order-preserving DTW alignment allowing 0..={} merges (exact DP), \
         RGB L1 over GT coverage, alpha soft IoU{}",
        protocol.max_merges,
        if protocol.group_top_layers {
            ", non-overlapping top layers grouped"
        } else {
            ""
        }
    );
    let mut outcomes = Vec::new();
    for &method in &options.methods {
        println!();
        let decomposer = match decomposer_for(method, &MethodSettings::default()) {
            Ok(d) => d,
            Err(err) => {
                println!("{method}: not available in this build ({err})");
                outcomes.push((method, Outcome::Unavailable));
                continue;
            }
        };
        println!("{method}:");
        let decompose_options = Options {
            method,
            seed: options.seed,
            ..Options::default()
        };
        let request = if options.true_count {
            LayerRequest::GroundTruthCount
        } else {
            LayerRequest::AsGiven
        };
        let mut results = Vec::new();
        let mut failures = 0;
        for scene in &scenes {
            match eval::evaluate(
                decomposer.as_ref(),
                scene,
                &decompose_options,
                request,
                &protocol,
            ) {
                Ok(result) => {
                    print_scene(&result);
                    results.push(result);
                }
                Err(err) => {
                    failures += 1;
                    println!("  {} seed {}: failed: {err}", scene.kind.name(), scene.seed);
                }
            }
        }
        let summary = Summary::new(&results);
        print_summary(method, &summary, failures, options.size);
        outcomes.push((method, Outcome::Scored { summary, failures }));
    }
    println!();
    print_markdown(&outcomes, scenes.len(), options.size);
    Ok(())
}

fn per255(v: f64) -> f64 {
    v * 255.0
}

fn print_scene(r: &SceneResult) {
    let (first, last) = (r.merges.first(), r.merges.last());
    let pick =
        |s: Option<&eval::MergeScore>| s.map_or((f64::NAN, f64::NAN), |s| (s.rgb_l1, s.alpha_iou));
    let ((l1_0, iou_0), (l1_n, iou_n)) = (pick(first), pick(last));
    println!(
        "  {:<6} seed {:<4} {} → {} layers  L1 {:.4} → {:.4}  IoU {:.3} → {:.3}  RMSE {:.2}/255  {:.0} ms",
        r.kind.name(),
        r.seed,
        r.gt_layers,
        r.predicted_layers,
        l1_0,
        l1_n,
        iou_0,
        iou_n,
        per255(r.reconstruction.rmse),
        r.seconds * 1000.0
    );
}

fn print_summary(method: Method, s: &Summary, failures: usize, size: (u32, u32)) {
    println!(
        "{method} — {} scenes at {}×{}{}; ground truth {:.1} layers, predicted {:.1}",
        s.scenes,
        size.0,
        size.1,
        if failures > 0 {
            format!(" ({failures} failed)")
        } else {
            String::new()
        },
        s.mean_gt_layers,
        s.mean_predicted_layers
    );
    if s.scenes == 0 {
        return;
    }
    let header: String = (0..s.rgb_l1.len()).map(|m| format!("{m:>8}")).collect();
    println!("  {:<12}{header}", "merges ≤");
    let row = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v:>8.4}"))
            .collect::<String>()
    };
    println!("  {:<12}{}", "RGB L1 ↓", row(&s.rgb_l1));
    println!("  {:<12}{}", "soft IoU ↑", row(&s.alpha_iou));
    println!(
        "  reconstruction RMSE {:.2}/255 mean, {:.2}/255 worst, max abs {:.0}/255; {:.0} ms/MP",
        per255(s.rmse_mean),
        per255(s.rmse_worst),
        per255(s.max_abs),
        s.seconds_per_megapixel * 1000.0
    );
}

/// The README-ready table: one row per method, values for m = 0 / 1 / … / 5 like the
/// Qwen-Image-Layered paper's Table 1.
fn print_markdown(outcomes: &[(Method, Outcome)], scenes: usize, size: (u32, u32)) {
    println!(
        "Synthetic scenes: {scenes} at {}×{}. RGB L1 ↓ and alpha soft IoU ↑ for 0 / 1 / 2 / 3 / 4 / 5 allowed merges.",
        size.0, size.1
    );
    println!();
    println!(
        "| method | RGB L1 ↓ | Alpha soft IoU ↑ | reconstruction RMSE (/255) | max abs (/255) | ms / MP |"
    );
    println!("|---|---|---|---|---|---|");
    let join = |v: &[f64], digits: usize| {
        v.iter()
            .map(|x| format!("{x:.digits$}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    for (method, outcome) in outcomes {
        match outcome {
            Outcome::Unavailable => {
                println!("| {method} | not available in this build | | | | |");
            }
            Outcome::Scored {
                summary: s,
                failures,
            } => {
                let note = if *failures > 0 {
                    format!(" ({failures} scenes failed)")
                } else {
                    String::new()
                };
                println!(
                    "| {method}{note} | {} | {} | {:.2} | {:.0} | {:.0} |",
                    join(&s.rgb_l1, 4),
                    join(&s.alpha_iou, 4),
                    per255(s.rmse_mean),
                    per255(s.max_abs),
                    s.seconds_per_megapixel * 1000.0
                );
            }
        }
    }
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
