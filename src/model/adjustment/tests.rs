//! Tests of the adjustments and their tables.
use super::*;
use crate::model::effects::{GradientShape, Interpolation, Stop};

fn stop<T>(at: f32, value: T) -> Stop<T> {
    Stop {
        at,
        value,
        midpoint: 0.5,
    }
}

/// The gradient of ag-psd's `gradient-overlay-2` gradient map: black, orange, yellow,
/// white, perceptual, smoothness 100 %.
fn photoshop_map() -> Adjustment {
    let c = |v: u16| f32::from(v) / 65535.0;
    Adjustment::gradient_map(Gradient {
        colors: vec![
            stop(0.0, [0.0; 3]),
            stop(1424.0 / 4096.0, [c(0xf9f9), c(0x4b4c), c(0x0202)]),
            stop(2722.0 / 4096.0, [c(0xffff), c(0x9e19), c(0x1f20)]),
            stop(1.0, [1.0; 3]),
        ],
        opacities: vec![stop(0.0, 1.0), stop(1.0, 1.0)],
        shape: GradientShape::Linear,
        angle: 90.0,
        scale: 1.0,
        reverse: false,
        interpolation: Interpolation::Perceptual,
        smoothness: 1.0,
    })
}

#[test]
fn maps_luminosity_to_the_gradient_and_keeps_alpha() {
    let map = photoshop_map();
    // Photoshop's stored composite maps the file's grey of 13 to (3, 0, 0).
    let grey = unit(13);
    let out = map.apply([grey, grey, grey, 1.0]);
    let bytes = out.map(|c| (c * 255.0).round() as u8);
    assert_eq!(bytes, [3, 0, 0, 255]);
    // Black and white map to the ends; a half-covered pixel keeps its coverage.
    assert_eq!(map.apply([0.0, 0.0, 0.0, 1.0]), [0.0, 0.0, 0.0, 1.0]);
    assert_eq!(map.apply([0.5, 0.5, 0.5, 0.5]), [0.5, 0.5, 0.5, 0.5]);
    assert_eq!(map.apply([0.0; 4]), [0.0; 4]);
    // Luminosity, not the mean: pure green (0.59) is brighter than pure red (0.3).
    let red = map.apply([1.0, 0.0, 0.0, 1.0]);
    let green = map.apply([0.0, 1.0, 0.0, 1.0]);
    assert!(green[1] > red[1], "{red:?} {green:?}");
}

fn channel(kind: AdjustmentKind, v: [u8; 3]) -> [u8; 3] {
    let px = v.map(unit);
    let out = Adjustment::new(kind).apply([px[0], px[1], px[2], 1.0]);
    [out[0], out[1], out[2]].map(|c| (c * 255.0).round() as u8)
}

#[test]
fn invert_and_posterize_map_each_channel() {
    assert_eq!(channel(AdjustmentKind::Invert, [0, 65, 255]), [255, 190, 0]);
    // Four levels: 0, 85, 170, 255, each value to the nearest.
    let four = AdjustmentKind::Posterize { levels: 4 };
    // Four bins of 64 values, not the nearest tone: 63 is still black, 200 is white
    // (psd-tools' `posterize_rgb` file, Photoshop's own flatten, draws it so).
    assert_eq!(channel(four.clone(), [63, 64, 200]), [0, 85, 255]);
    assert_eq!(channel(four, [255, 128, 127]), [255, 170, 85]);
    // Eight levels: tones 0, 36, 72, 109, …, truncated, not rounded.
    let eight = AdjustmentKind::Posterize { levels: 8 };
    assert_eq!(channel(eight, [73, 110, 30]), [72, 109, 0]);
    let inverted = Adjustment::new(AdjustmentKind::Invert);
    assert_eq!(inverted.lookup(), Lookup::Channels);
    assert_eq!(inverted.table().len(), CHANNEL_TABLE_SIZE);
    // Alpha is kept and the colour mapped straight, not premultiplied.
    let half = inverted.apply([0.1, 0.2, 0.3, 0.5]);
    assert!((half[0] - 0.4).abs() < 1.0 / 255.0, "{half:?}");
    assert_eq!(half[3], 0.5);
}

#[test]
fn threshold_splits_by_luminosity() {
    let kind = || AdjustmentKind::Threshold { level: 128 };
    // Pure green's luminosity is 150, pure red's 77: one white, one black.
    assert_eq!(channel(kind(), [0, 255, 0]), [255; 3]);
    assert_eq!(channel(kind(), [255, 0, 0]), [0; 3]);
    assert_eq!(channel(kind(), [128; 3]), [255; 3]);
    assert_eq!(channel(kind(), [127; 3]), [0; 3]);
}

#[test]
fn levels_stretch_the_input_range_and_bend_the_midtones() {
    let stretch = LevelsRecord {
        input_floor: 10,
        input_ceiling: 245,
        ..LevelsRecord::IDENTITY
    };
    let id = LevelsRecord::IDENTITY;
    let kind = || AdjustmentKind::Levels([stretch, id, id, id]);
    // (v - 10) / 235 * 255: 10 -> 0, 245 -> 255, 128 -> 128.04.
    assert_eq!(channel(kind(), [10, 245, 128]), [0, 255, 128]);
    assert_eq!(channel(kind(), [5, 250, 100]), [0, 255, 98]);
    // Gamma 2 on the red record lifts its midtone; output range narrows green's.
    let lift = LevelsRecord { gamma: 2.0, ..id };
    let narrow = LevelsRecord {
        output_floor: 50,
        output_ceiling: 150,
        ..id
    };
    let per_channel = AdjustmentKind::Levels([id, lift, narrow, id]);
    // 64/255 ^ (1/2) * 255 = 127.75; 50 + 100 * 64/255 = 75.1.
    assert_eq!(channel(per_channel, [64, 64, 64]), [128, 75, 64]);
}

#[test]
fn curves_pass_through_their_points_smoothly() {
    // Photoshop's "Increase Contrast (RGB)" preset, as ag-psd's adjustment file stores it.
    let points = vec![(0, 0), (38, 17), (212, 231), (231, 250), (255, 255)];
    let curve = CurvePoints::new(points.clone()).expect("a curve");
    let kind = AdjustmentKind::Curves([Some(curve), None, None, None]);
    for (input, output) in points {
        assert_eq!(channel(kind.clone(), [input; 3]), [output; 3], "at {input}");
    }
    // Between points the spline is monotone here and stays within the neighbours.
    let mid = channel(kind.clone(), [128; 3])[0];
    assert!((17..231).contains(&mid), "{mid}");
    let mapped: Vec<u8> = (38..=212)
        .map(|v| channel(kind.clone(), [v; 3])[0])
        .collect();
    assert!(mapped.windows(2).all(|w| w[0] <= w[1]), "monotone");
    // Two points make a straight line; one is no curve.
    let line = CurvePoints::new(vec![(255, 0), (0, 255)]).expect("a line");
    let inverse = AdjustmentKind::Curves([None, Some(line), None, None]);
    assert_eq!(channel(inverse, [100, 100, 100]), [155, 100, 100]);
    assert!(CurvePoints::new(vec![(3, 4), (3, 9)]).is_none());
}

#[test]
fn the_channel_mixer_weighs_the_inputs() {
    let row = |red, green, blue, constant| MixerRow {
        red,
        green,
        blue,
        constant,
    };
    // Swap red and blue, halve green and lift it by a fifth of white.
    let swap = AdjustmentKind::ChannelMixer {
        monochrome: false,
        rows: [row(0, 0, 100, 0), row(0, 50, 0, 20), row(100, 0, 0, 0)],
    };
    // 0.5 * 100 + 0.2 * 255 = 101.
    assert_eq!(channel(swap.clone(), [10, 100, 200]), [200, 101, 10]);
    assert_eq!(Adjustment::new(swap).lookup(), Lookup::Matrix);
    // Photoshop's "black and white with green filter": every channel the green input;
    // sums past white clip.
    let green = AdjustmentKind::ChannelMixer {
        monochrome: true,
        rows: [row(0, 100, 0, 0), row(100, 0, 0, 0), row(0, 0, 100, 0)],
    };
    assert_eq!(channel(green, [186, 65, 65]), [65; 3]);
    let bright = AdjustmentKind::ChannelMixer {
        monochrome: false,
        rows: [row(150, 0, 0, 0), row(0, -50, 0, 0), row(0, 0, 100, -10)],
    };
    assert_eq!(channel(bright, [200, 100, 10]), [255, 0, 0]);
}

#[test]
fn exposure_scales_linear_light() {
    let exposure = |exposure, offset, gamma| AdjustmentKind::Exposure {
        exposure,
        offset,
        gamma,
    };
    // One stop up doubles the linear light of 128 (0.2195 -> 0.439): 175.4 in sRGB.
    assert_eq!(
        channel(exposure(1.0, 0.0, 1.0), [128, 0, 255]),
        [175, 0, 255]
    );
    // One stop down halves it; gamma 2 takes the linear value's square root.
    assert_eq!(channel(exposure(-1.0, 0.0, 1.0), [200; 3]), [146; 3]);
    assert_eq!(channel(exposure(0.0, 0.0, 2.0), [128; 3]), [181; 3]);
    // The offset lifts black; the neutral settings change nothing.
    assert_eq!(channel(exposure(0.0, 0.1, 1.0), [0; 3]), [90; 3]);
    assert_eq!(channel(exposure(0.0, 0.0, 1.0), [7, 99, 201]), [7, 99, 201]);
    assert_eq!(
        Adjustment::new(exposure(1.0, 0.0, 1.0)).lookup(),
        Lookup::Channels
    );
}

#[test]
fn a_clipped_adjustment_maps_only_its_base() {
    use crate::model::{Document, Offset, RgbaImage, composite};
    use image::Rgba;

    let mut doc = Document::new(8, 4);
    doc.push_layer(
        "grey",
        RgbaImage::from_pixel(8, 4, Rgba([100, 100, 100, 255])),
    );
    doc.push_layer("red", RgbaImage::from_pixel(4, 4, Rgba([200, 40, 0, 255])))
        .offset = Offset::new(4, 0);
    let invert = doc.push_layer("invert", RgbaImage::new(0, 0));
    invert.adjustment = Some(Adjustment::new(AdjustmentKind::Invert));
    invert.clipped = true;
    let out = composite(&doc);
    // The base is inverted; the backdrop beside it is not.
    assert_eq!(out.get_pixel(6, 1).0, [55, 215, 255, 255]);
    assert_eq!(out.get_pixel(1, 1).0, [100, 100, 100, 255]);
    // Unclipped, it inverts everything below.
    doc.layers[2].clipped = false;
    assert_eq!(composite(&doc).get_pixel(1, 1).0, [155, 155, 155, 255]);
}
