//! Text blocks: grouping lines, telling text from the detector's mistakes, the two-colour
//! plan.

use super::*;

#[test]
fn a_one_character_reading_is_no_evidence_of_text() {
    assert!(weakly_read(None));
    assert!(weakly_read(Some("O")));
    assert!(weakly_read(Some("“I”")));
    assert!(!weakly_read(Some("Go")));
    assert!(!weakly_read(Some("7 pm")));
}

#[test]
fn an_unread_block_is_text_only_if_it_runs_on_and_is_not_huge() {
    let block = |lines: &[BBox]| Block {
        bbox: lines.iter().copied().reduce(BBox::union).unwrap(),
        lines: lines.to_vec(),
    };
    let picture = (768, 512);
    // A handle, a stripe, an icon: unread and short.
    assert!(unread_not_text(
        &block(&[BBox::new(340, 110, 371, 130)]),
        picture
    ));
    assert!(unread_not_text(
        &block(&[BBox::new(10, 10, 18, 80)]),
        picture
    ));
    // A line in a script the recogniser does not know: unread, but long.
    assert!(!unread_not_text(
        &block(&[BBox::new(10, 10, 130, 30)]),
        picture
    ));
    // A "line" a third of the picture tall is a picture, read or not.
    assert!(unread_not_text(
        &block(&[BBox::new(0, 0, 700, 170)]),
        picture
    ));
}

/// White strokes (eight bars, like letters) on a dark box that fills most of the text's
/// box, the pink page showing around it.
fn words_on_a_box() -> RgbaImage {
    RgbaImage::from_fn(120, 60, |x, y| {
        let on_box = (14..106).contains(&x) && (8..52).contains(&y);
        let stroke =
            (16..44).contains(&y) && (22..=92).step_by(10).any(|s| (s..s + 4).contains(&x));
        image::Rgba(match (on_box, stroke) {
            (true, true) => [250, 250, 250, 255],
            (true, false) => [20, 20, 24, 255],
            _ => [230, 150, 200, 255],
        })
    })
}

#[test]
fn a_giant_line_is_text_only_when_read_as_words() {
    let block = |line: BBox| Block {
        bbox: line,
        lines: vec![line],
    };
    let picture = (768, 512);
    // A grid of cards the detector took for one line 0.9 of the picture tall.
    let grid = block(BBox::new(114, 54, 768, 512));
    assert!(!is_text(&grid, Some("88"), picture));
    assert!(!is_text(&grid, None, picture));
    // A headline that large is several letters, and read.
    assert!(is_text(&grid, Some("SALE"), picture));
    // An ordinary line needs no more than before: two letters, or a long unread line.
    let label = block(BBox::new(300, 200, 340, 228));
    assert!(is_text(&label, Some("Go"), picture));
    assert!(!is_text(&label, Some("O"), picture));
    assert!(is_text(&block(BBox::new(10, 10, 130, 30)), None, picture));
}

#[test]
fn a_block_of_many_colours_is_not_one_colour_of_text() {
    // Bars of dark ink on white: every solid pixel is the ink.
    let (one, _) = two_lines([30, 90, 40], [30, 90, 40]);
    let (plan, _) = plan(&one, 1.0, BBox::new(14, 8, 186, 63)).expect("text");
    assert!(plan.mask.iter().any(|&m| m));
    // The same bars joined by a base, in a different colour every two bars (a picture
    // with lettering in it, a panel of icons): the commonest colour explains too few
    // of its pixels. (Bars standing apart would each be a patch of its own, and those
    // of other colours than the commonest would be detached instead.)
    let rainbow = RgbaImage::from_fn(200, 80, |x, y| {
        let upright = (x / 6) % 2 == 0 || (50..=56).contains(&y);
        let bar = upright && (20..180).contains(&x) && (14..=56).contains(&y);
        let k = (x / 12) as u8;
        let c = if bar {
            [
                k.wrapping_mul(67),
                255 - k.wrapping_mul(41),
                k.wrapping_mul(113),
            ]
        } else {
            [255, 255, 255]
        };
        image::Rgba([c[0], c[1], c[2], 255])
    });
    assert!(plan_of(&rainbow).is_none());
}

#[test]
fn a_bullet_dot_beside_a_line_is_left_whole_for_the_layer_beneath() {
    let (mut picture, _) = two_lines([30, 90, 40], [30, 90, 40]);
    for y in 18..23 {
        for x in 8..13 {
            picture.put_pixel(x, y, image::Rgba([220, 40, 60, 255]));
        }
    }
    let (plan, _) = plan(&picture, 1.0, BBox::new(6, 8, 186, 63)).expect("text");
    let b = plan.bbox;
    let at = |x: u32, y: u32| ((y - b.y0) * b.width() + (x - b.x0)) as usize;
    assert!(plan.mask[at(25, 20)], "a stroke is the text's");
    for (x, y) in [(8, 18), (10, 20), (12, 22)] {
        assert!(!plan.mask[at(x, y)], "the dot at ({x},{y}) is not");
    }
}

fn plan_of(picture: &RgbaImage) -> Option<(Plan, bool)> {
    plan(picture, 1.0, BBox::new(14, 8, 186, 63))
}

#[test]
fn words_on_a_box_filling_their_block_are_the_strokes_over_the_box() {
    let picture = words_on_a_box();
    let (plan, _) = plan(&picture, 1.0, BBox::new(16, 10, 104, 50)).expect("text");
    let b = plan.bbox;
    let at = |x: u32, y: u32| ((y - b.y0) * b.width() + (x - b.x0)) as usize;
    let colour = plan.colour.data[at(23, 30)];
    assert!(colour.iter().all(|&v| v > 0.9), "text colour {colour:?}");
    let under = plan.underlay.data[at(23, 30)];
    assert!(under.iter().all(|&v| v < 0.2), "underlay {under:?}");
    assert!(plan.mask[at(23, 30)], "a stroke is the text's");
    assert!(!plan.mask[at(29, 30)], "the box is not");
}

#[test]
fn words_of_a_line_and_lines_of_a_paragraph_form_one_block() {
    let lines = [
        BBox::new(10, 10, 60, 30),
        BBox::new(70, 11, 120, 30),
        BBox::new(10, 36, 110, 56),
    ];
    let found = blocks(
        &lines,
        &RgbaImage::from_pixel(1200, 800, image::Rgba([255; 4])),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].bbox, BBox::new(10, 10, 120, 56));
    assert_eq!(found[0].lines.len(), 3);
}

#[test]
fn a_title_and_a_smaller_subtitle_are_two_blocks() {
    let lines = [BBox::new(10, 10, 200, 50), BBox::new(10, 56, 150, 72)];
    assert_eq!(
        blocks(
            &lines,
            &RgbaImage::from_pixel(1200, 800, image::Rgba([255; 4]))
        )
        .len(),
        2
    );
}

/// Two lines of bars on white, 8 px apart and alike in height: the upper in `upper`, the
/// lower in `lower`; and their boxes, padded as the detector pads them.
fn two_lines(upper: [u8; 3], lower: [u8; 3]) -> (RgbaImage, Vec<BBox>) {
    let image = RgbaImage::from_fn(200, 80, |x, y| {
        let bar = (x / 6) % 2 == 0 && (20..180).contains(&x);
        let c = match y {
            14..=26 if bar => upper,
            44..=56 if bar => lower,
            _ => [255, 255, 255],
        };
        image::Rgba([c[0], c[1], c[2], 255])
    });
    (
        image,
        vec![BBox::new(14, 8, 186, 33), BBox::new(14, 38, 186, 63)],
    )
}

#[test]
fn lines_in_two_ink_colours_are_two_blocks() {
    let (same, lines) = two_lines([30, 90, 40], [30, 90, 40]);
    assert_eq!(blocks(&lines, &same).len(), 1);
    let (two, lines) = two_lines([30, 90, 40], [120, 120, 120]);
    assert_eq!(blocks(&lines, &two).len(), 2);
}

#[test]
fn far_apart_labels_are_two_blocks() {
    let lines = [BBox::new(10, 10, 60, 30), BBox::new(300, 10, 360, 30)];
    assert_eq!(
        blocks(
            &lines,
            &RgbaImage::from_pixel(1200, 800, image::Rgba([255; 4]))
        )
        .len(),
        2
    );
}
