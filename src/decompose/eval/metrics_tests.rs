//! Unit tests of the scoring protocol.

use super::*;
use image::Rgba;

const W: u32 = 16;
const H: u32 = 12;

fn rect(x0: u32, y0: u32, x1: u32, y1: u32, px: [u8; 4]) -> RgbaImage {
    RgbaImage::from_fn(W, H, |x, y| {
        if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
            Rgba(px)
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

/// Background, a soft-alpha square, and a square overlapping it.
fn stack() -> Vec<RgbaImage> {
    vec![
        rect(0, 0, W, H, [40, 90, 200, 255]),
        rect(2, 2, 10, 9, [220, 30, 30, 180]),
        rect(6, 4, 14, 11, [20, 200, 60, 255]),
    ]
}

fn no_grouping() -> Protocol {
    Protocol {
        group_top_layers: false,
        ..Protocol::default()
    }
}

fn assert_perfect(s: &MergeScore) {
    assert!(s.rgb_l1 < 1e-12, "{s:?}");
    assert!((s.alpha_iou - 1.0).abs() < 1e-12, "{s:?}");
}

#[test]
fn identical_layers_score_perfectly_at_every_budget() {
    for protocol in [Protocol::default(), no_grouping()] {
        let scores = score_layers(&stack(), &stack(), &protocol).expect("scored");
        assert_eq!(scores.len(), MAX_MERGES + 1);
        for (m, s) in scores.iter().enumerate() {
            assert_eq!(s.allowed, m);
            assert_eq!(s.used, 0);
            assert_eq!(s.pairs, 3);
            assert_perfect(s);
        }
    }
}

#[test]
fn a_split_prediction_is_perfect_after_one_merge_only() {
    let gt = stack();
    // The middle layer cut into a left and a right part: merging them gives it back.
    let mut pred = gt.clone();
    let (mut left, mut right) = (gt[1].clone(), gt[1].clone());
    for (x, _, px) in left.enumerate_pixels_mut() {
        if x >= 6 {
            *px = Rgba([0, 0, 0, 0]);
        }
    }
    for (x, _, px) in right.enumerate_pixels_mut() {
        if x < 6 {
            *px = Rgba([0, 0, 0, 0]);
        }
    }
    pred.splice(1..2, [left, right]);
    let scores = score_layers(&pred, &gt, &no_grouping()).expect("scored");
    assert!(
        scores[0].alpha_iou < 0.95 && scores[0].rgb_l1 > 0.0,
        "{:?}",
        scores[0]
    );
    for s in &scores[1..] {
        assert_perfect(s);
        assert_eq!((s.used, s.pairs), (1, 3));
    }
}

#[test]
fn a_split_ground_truth_is_merged_too() {
    let gt = stack();
    let pred = vec![gt[0].clone(), merge(&gt[1..])];
    let scores = score_layers(&pred, &gt, &no_grouping()).expect("scored");
    assert!(scores[0].alpha_iou < 0.95, "{:?}", scores[0]);
    assert_perfect(&scores[1]);
    assert_eq!(scores[1].used, 1);
}

#[test]
fn non_overlapping_top_layers_are_grouped() {
    let gt = vec![
        rect(0, 0, W, H, [0, 0, 0, 255]),
        rect(0, 0, 4, 4, [255, 0, 0, 255]),
        rect(8, 8, 12, 12, [0, 255, 0, 255]),
    ];
    assert_eq!(group_top_layers(&gt).len(), 2);
    let pred = vec![gt[0].clone(), merge(&gt[1..])];
    let grouped = score_layers(&pred, &gt, &Protocol::default()).expect("scored");
    assert_perfect(&grouped[0]);
    let plain = score_layers(&pred, &gt, &no_grouping()).expect("scored");
    assert!(plain[0].alpha_iou < 0.9);
    // Overlapping layers keep their order and stay apart.
    assert_eq!(group_top_layers(&stack()).len(), 3);
}

#[test]
fn empty_and_single_layer_cases() {
    let none: Vec<RgbaImage> = Vec::new();
    let both = score_layers(&none, &none, &Protocol::default()).expect("scored");
    assert!(both.iter().all(|s| s.rgb_l1 == 0.0 && s.alpha_iou == 1.0));
    let missing = score_layers(&none, &stack(), &Protocol::default()).expect("scored");
    assert!(
        missing
            .iter()
            .all(|s| s.rgb_l1 == 1.0 && s.alpha_iou == 0.0)
    );
    let extra = score_layers(&stack(), &none, &Protocol::default()).expect("scored");
    assert!(extra.iter().all(|s| s.alpha_iou == 0.0));

    let one = vec![stack()[0].clone()];
    assert_perfect(&score_layers(&one, &one, &Protocol::default()).expect("scored")[0]);
    // One predicted layer against three: every ground-truth layer pairs with it at m = 0.
    // Merging all three ground-truth layers would match it exactly, but a side is never
    // merged below two layers (LayerD's rule), so the best is one merge and two pairs.
    let flat = vec![merge(&stack())];
    let scores = score_layers(&flat, &stack(), &no_grouping()).expect("scored");
    assert_eq!(scores[0].pairs, 3);
    assert!(scores[5].alpha_iou < 1.0);
    assert_eq!((scores[5].used, scores[5].pairs), (1, 2));
    // Two layers against two: nothing may be merged.
    let two = &stack()[..2];
    let scores = score_layers(&flat, two, &no_grouping()).expect("scored");
    assert!(scores.iter().all(|s| s.used == 0 && s.pairs == 2));
}

#[test]
fn neither_side_collapses_to_one_layer() {
    // The two top layers in the wrong order: merging them on both sides gives the same
    // coverage but different colour where they overlap; merging further (everything into
    // one layer, where the order would vanish) is not allowed.
    let gt = stack();
    let pred = vec![gt[0].clone(), gt[2].clone(), gt[1].clone()];
    let scores = score_layers(&pred, &gt, &no_grouping()).expect("scored");
    let s = scores[5];
    assert_eq!((s.used, s.pairs), (2, 2), "{s:?}");
    assert!(s.alpha_iou > 0.999 && s.rgb_l1 > 0.01, "{s:?}");
}

#[test]
fn pair_scores_follow_layerd_definitions() {
    let a = rect(0, 0, 8, H, [255, 255, 255, 255]);
    let b = rect(0, 0, 4, H, [0, 0, 0, 255]);
    let s = pair_score(&b, &a);
    // IoU: half the area; L1 over a's coverage: 1 where b is black, 1 where b is empty.
    assert!((s.alpha_iou - 0.5).abs() < 1e-12);
    assert!((s.rgb_l1 - 1.0).abs() < 1e-12);
    let half = rect(0, 0, 8, H, [255, 255, 255, 128]);
    assert!((pair_score(&half, &a).alpha_iou - 128.0 / 255.0).abs() < 1e-12);
    assert_eq!(pair_score(&a, &half).rgb_l1, 0.0);
    let empty = RgbaImage::new(W, H);
    // LayerD's soft IoU of an empty union is 0, not 1.
    assert_eq!(pair_score(&empty, &empty).alpha_iou, 0.0);
    assert_eq!(pair_score(&empty, &a).alpha_iou, 0.0);
}

#[test]
fn merge_is_the_reference_over() {
    let layers = stack();
    let mut doc = crate::model::Document::new(W, H);
    for l in &layers {
        doc.push_layer("l", l.clone());
    }
    assert_eq!(merge(&layers), crate::model::composite(&doc));
}

#[test]
fn sizes_must_match() {
    let small = vec![RgbaImage::new(3, 3)];
    assert!(matches!(
        score_layers(&small, &stack(), &Protocol::default()),
        Err(EvalError::SizeMismatch { .. })
    ));
}

#[test]
fn mean_cost_never_rises_with_more_merges() {
    let gt = super::super::scenes::scene(super::super::SceneKind::Design, 9, (40, 30)).layers;
    // A rough prediction: the ground truth with its layers shuffled in pieces.
    let mut pred: Vec<RgbaImage> = gt.iter().rev().cloned().collect();
    pred.push(merge(&gt));
    let scores = score_layers(&pred, &gt, &no_grouping()).expect("scored");
    let cost = |s: &MergeScore| (s.rgb_l1 + 1.0 - s.alpha_iou) / 2.0;
    for pair in scores.windows(2) {
        assert!(cost(&pair[1]) <= cost(&pair[0]) + 1e-12, "{scores:?}");
        assert!(pair[1].used <= pair[1].allowed);
    }
}

#[test]
fn l1_counts_every_pixel_the_truth_covers_at_all() {
    // LayerD's mask is `alpha_gt > 0`: a barely visible ground-truth pixel counts as much as
    // an opaque one, and the prediction's alpha plays no part.
    let mut gt = rect(0, 0, 2, H, [200, 100, 50, 255]);
    for y in 0..H {
        gt.put_pixel(2, y, image::Rgba([0, 0, 0, 1]));
    }
    let pred = rect(0, 0, 3, H, [200, 100, 50, 10]);
    let s = pair_score(&pred, &gt);
    // Columns 0–1 match; column 2 differs by (200 + 100 + 50) / 3 / 255; 3 columns covered.
    let expected = (350.0 / 3.0 / 255.0) / 3.0;
    assert!((s.rgb_l1 - expected).abs() < 1e-12, "{s:?}");
}

#[test]
fn zero_merges_is_layerds_sum_minimising_dtw() {
    // Costs (prediction rows, ground-truth columns) where the path with the lowest mean
    // (00, 10, 20, 21: 0.32 over 4 pairs) is not the one with the lowest sum (00, 10, 21:
    // 0.3 over 3). LayerD reports the latter; its trace-back prefers the diagonal.
    let cost = [0.0, 1.0, 0.3, 0.3, 0.02, 0.0];
    let scores: Vec<PairScore> = cost
        .iter()
        .map(|&c| PairScore {
            rgb_l1: 0.0,
            alpha_iou: 1.0 - 2.0 * c,
        })
        .collect();
    assert_eq!(super::dtw_path(&cost, 3, 2), vec![(0, 0), (1, 0), (2, 1)]);
    let s = super::dtw_score(&scores, 3, 2);
    assert_eq!(s.pairs, 3);
    assert!((s.alpha_iou - (1.0 - 2.0 * 0.1)).abs() < 1e-12, "{s:?}");
    // Ties: all-zero costs take the diagonal first.
    assert_eq!(super::dtw_path(&[0.0; 4], 2, 2), vec![(0, 0), (1, 1)]);
}

#[test]
fn grouping_follows_layerds_back_to_front_loop() {
    // bg, A, B, C with C over A and B apart from both: B and C overlap nothing above them,
    // so they form the top group even though A lies between them in the stack; then A
    // alone, then the background (LayerD's `group_top_layers_indices`).
    let bg = rect(0, 0, W, H, [10, 10, 10, 255]);
    let a = rect(0, 0, 4, 4, [200, 0, 0, 255]);
    let b = rect(10, 8, 14, 12, [0, 200, 0, 255]);
    let c = rect(2, 2, 6, 6, [0, 0, 200, 128]);
    let groups = group_top_layers(&[bg.clone(), a.clone(), b.clone(), c.clone()]);
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0], bg);
    assert_eq!(groups[1], a);
    assert_eq!(groups[2], merge(&[b, c]));
}
