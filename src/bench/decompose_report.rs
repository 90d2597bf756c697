//! The printed output of `strata bench decompose`: one line per scene while it runs, then
//! Markdown tables per method and scene kind (for the designs: per background kind).

use strata::decompose::eval::{MergeScore, SceneKind, SceneResult, Summary};

/// What one method achieved.
pub enum Outcome {
    /// The method could not run here (no weights, feature or device): why.
    Unavailable(String),
    /// Per-scene results, and how many scenes failed.
    Scored {
        results: Vec<SceneResult>,
        failures: usize,
    },
}

fn per255(v: f64) -> f64 {
    v * 255.0
}

/// One scene's line while the benchmark runs.
pub fn print_scene(r: &SceneResult) {
    let pick = |s: Option<&MergeScore>| s.map_or((f64::NAN, f64::NAN), |s| (s.rgb_l1, s.alpha_iou));
    let ((l1_0, iou_0), (l1_n, iou_n)) = (pick(r.merges.first()), pick(r.merges.last()));
    println!(
        "  {:<8} #{:<3} {} → {} layers  L1 {:.4} → {:.4}  IoU {:.3} → {:.3}  RMSE {:.2}/255  {:.0} ms",
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

/// The kinds present in `results`, in order of first appearance.
fn kinds(results: &[SceneResult]) -> Vec<SceneKind> {
    let mut out: Vec<SceneKind> = Vec::new();
    for r in results {
        if !out.contains(&r.kind) {
            out.push(r.kind);
        }
    }
    out
}

/// Per method, one row per scene kind and one for all scenes: soft IoU and RGB L1 at 0 and
/// 5 merges, mean reconstruction RMSE, mean layer counts and seconds per megapixel.
pub fn print_by_kind(outcomes: &[(String, Outcome)]) {
    println!(
        "Soft IoU ↑ and RGB L1 ↓ at m = 0 and m = 5 merges (LayerD protocol); RMSE of the \
         recomposed layers against the input; layers predicted / ground truth (means)."
    );
    println!();
    println!(
        "| method | scenes | n | IoU m=0 | IoU m=5 | L1 m=0 | L1 m=5 | RMSE (/255) | layers pred / true | s / Mpx |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, outcome) in outcomes {
        let (results, failures) = match outcome {
            Outcome::Unavailable(why) => {
                println!("| {name} | not available: {why} | | | | | | | | |");
                continue;
            }
            Outcome::Scored { results, failures } => (results, *failures),
        };
        let mut groups: Vec<(String, Vec<SceneResult>)> = kinds(results)
            .into_iter()
            .map(|k| {
                let subset = results.iter().filter(|r| r.kind == k).cloned().collect();
                (k.name().to_owned(), subset)
            })
            .collect();
        if groups.len() > 1 {
            groups.push(("all".to_owned(), results.clone()));
        }
        let label = if failures > 0 {
            format!("{name} ({failures} failed)")
        } else {
            name.clone()
        };
        for (kind, subset) in &groups {
            let s = Summary::new(subset);
            let at = |v: &[f64], m: usize| v.get(m).copied().unwrap_or(f64::NAN);
            let last = s.alpha_iou.len().saturating_sub(1);
            println!(
                "| {label} | {kind} | {} | {:.3} | {:.3} | {:.4} | {:.4} | {:.2} | {:.1} / {:.1} | {:.2} |",
                s.scenes,
                at(&s.alpha_iou, 0),
                at(&s.alpha_iou, last),
                at(&s.rgb_l1, 0),
                at(&s.rgb_l1, last),
                per255(s.rmse_mean),
                s.mean_predicted_layers,
                s.mean_gt_layers,
                s.seconds_per_megapixel
            );
        }
    }
}

/// All scenes, every merge budget: the layout of the Qwen-Image-Layered paper's Table 1.
pub fn print_merges(outcomes: &[(String, Outcome)]) {
    println!("All scenes: RGB L1 ↓ and alpha soft IoU ↑ for 0 / 1 / 2 / 3 / 4 / 5 allowed merges.");
    println!();
    println!("| method | RGB L1 ↓ | Alpha soft IoU ↑ | RMSE (/255) | max abs (/255) | ms / MP |");
    println!("|---|---|---|---|---|---|");
    let join = |v: &[f64], digits: usize| {
        v.iter()
            .map(|x| format!("{x:.digits$}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    for (name, outcome) in outcomes {
        match outcome {
            Outcome::Unavailable(_) => println!("| {name} | not available | | | | |"),
            Outcome::Scored { results, .. } => {
                let s = Summary::new(results);
                println!(
                    "| {name} | {} | {} | {:.2} | {:.0} | {:.0} |",
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
