//! Reading the tone adjustment blocks, with bytes as Photoshop wrote them in ag-psd's
//! `adjustment-layers` test file, and which of a file's adjustments get drawn.

use super::*;
use crate::io::psd::bytes::from_hex as hex;
use crate::io::psd::descriptor::tests::adjustment_block as block;
use crate::model::AdjustmentKind;

/// The `levl` block: the composite record stretches input 10..245, the 28 others are
/// the identity.
fn photoshop_levels() -> Vec<u8> {
    let mut data = hex("0002 000a 00f5 0000 00ff 0064");
    for _ in 1..29 {
        data.extend(hex("0000 00ff 0000 00ff 0064"));
    }
    data.extend([0; 2]);
    data
}

/// The `curv` block of Photoshop's "Increase Contrast (RGB)" preset, with its `Crv `
/// extension.
const PHOTOSHOP_CURVES: &str = "00 0001 00000001 0005 0000 0000 0011 0026 00e7 00d4 00fa \
    00e7 00ff 00ff 43727620 0004 00000001 0000 0005 0000 0000 0011 0026 00e7 00d4 00fa 00e7 \
    00ff 00ff 00";

#[test]
fn reads_photoshops_tone_blocks() {
    let levels = parse(b"levl", &photoshop_levels()).expect("levels");
    let AdjustmentKind::Levels(records) = &levels.kind else {
        panic!("{:?}", levels.kind);
    };
    assert_eq!(
        (records[0].input_floor, records[0].input_ceiling),
        (10, 245)
    );
    assert_eq!(records[0].gamma, 1.0);
    assert_eq!(records[1], LevelsRecord::IDENTITY);

    let curves = parse(b"curv", &hex(PHOTOSHOP_CURVES)).expect("curves");
    let AdjustmentKind::Curves(channels) = &curves.kind else {
        panic!("{:?}", curves.kind);
    };
    let composite = channels[0].as_ref().expect("the composite curve");
    assert_eq!(
        composite.points(),
        [(0, 0), (38, 17), (212, 231), (231, 250), (255, 255)]
    );
    assert!(channels[1..].iter().all(Option::is_none));

    let post = parse(b"post", &hex("0010 0000")).expect("posterize");
    assert_eq!(post.kind, AdjustmentKind::Posterize { levels: 16 });
    let thrs = parse(b"thrs", &hex("00b6 0000")).expect("threshold");
    assert_eq!(thrs.kind, AdjustmentKind::Threshold { level: 182 });
    assert_eq!(
        parse(b"nvrt", &[]).expect("invert").kind,
        AdjustmentKind::Invert
    );

    let mut mixer = hex("0001 0001 0000 0064 0000 0000 0000");
    mixer.extend([0; 30]);
    let mixer = parse(b"mixr", &mixer).expect("channel mixer");
    let AdjustmentKind::ChannelMixer { monochrome, rows } = mixer.kind else {
        panic!("{:?}", mixer.kind);
    };
    assert!(monochrome);
    assert_eq!((rows[0].red, rows[0].green, rows[0].blue), (0, 100, 0));

    // psd-tools' `exposure_rgb` test file: exposure 2.03, offset 0.0775, gamma 1.52.
    let exposure = parse(b"expA", &hex("0001 4001eb85 3d9eb852 3fc28f5c 0000")).expect("exposure");
    assert_eq!(
        exposure.kind,
        AdjustmentKind::Exposure {
            exposure: 2.03,
            offset: 0.0775,
            gamma: 1.52
        }
    );

    // Truncated blocks, a drawn curves map and other versions are not drawn.
    assert!(parse(b"levl", &photoshop_levels()[..40]).is_none());
    assert!(parse(b"levl", &hex("0001")).is_none());
    let mut map = hex(PHOTOSHOP_CURVES);
    map[0] = 1;
    assert!(parse(b"curv", &map).is_none());
    assert!(parse(b"post", &[]).is_none());
    assert!(parse(b"mixr", &hex("0001 0000 0064")).is_none());
    assert!(parse(b"selc", &[0; 84]).is_none());
    assert!(parse(b"expA", &hex("0001 4001eb85 3d9eb852")).is_none());
    assert!(parse(b"expA", &hex("0001 7fc00000 00000000 3f800000")).is_none());
}

#[test]
fn a_layer_is_drawn_only_when_its_adjustment_reads() {
    // An invert with its dialog extras: drawable; both leave the undrawn list.
    let mut invert = vec![block(b"nvrt", Vec::new()), block(b"CgEd", vec![0; 8])];
    assert!(!holds_undrawn_adjustment(&invert));
    mark_drawn(&mut invert);
    assert!(invert.iter().all(|b| b.undrawn.is_none()));
    assert_eq!(read(&invert).expect("read").kind, AdjustmentKind::Invert);

    // Selective colour is not drawn, nor are its extras; a fill layer never counts.
    let mut selective = vec![block(b"selc", vec![0; 84]), block(b"CgEd", vec![0; 8])];
    assert!(holds_undrawn_adjustment(&selective));
    mark_drawn(&mut selective);
    assert!(selective.iter().all(|b| b.undrawn.is_some()));
    assert!(read(&selective).is_none());
    assert!(!holds_undrawn_adjustment(&[block(b"SoCo", vec![0; 4])]));
    // Before marking, nothing is read: the file-wide rule decides first.
    assert!(read(&[block(b"nvrt", Vec::new())]).is_none());
}
