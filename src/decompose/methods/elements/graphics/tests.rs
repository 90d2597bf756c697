use super::*;

/// A white card with a red square on it, on a blue backdrop.
fn card_scene(w: usize, h: usize) -> Field {
    let mut f = Field::filled(w, h, [0.1, 0.2, 0.7]);
    for y in 10..50 {
        for x in 10..70 {
            f.data[y * w + x] = [0.95, 0.95, 0.95];
        }
    }
    for y in 22..38 {
        for x in 30..46 {
            f.data[y * w + x] = [0.9, 0.1, 0.1];
        }
    }
    f
}

/// The element plans [`find`] makes of `picture` over a flat `backdrop`, with the
/// thresholds of a designed backdrop.
fn find_on_flat(picture: &Field, backdrop: Rgb) -> Vec<Plan> {
    let (w, h) = (picture.width, picture.height);
    let underlay = Field::filled(w, h, backdrop);
    let region = vec![true; w * h];
    let window = Window {
        picture,
        underlay: &underlay,
        region: &region,
        pieces: None,
        origin: (0, 0),
    };
    let t = Thresholds {
        strong: 0.03,
        weak: 0.006,
        min_area: 12,
        reach: 3,
        panel_seed: 0.3,
        shadows: true,
    };
    let mut plans = Vec::new();
    find(&window, t, 0, &mut plans);
    plans
}

#[test]
fn an_icon_on_a_card_is_a_child_of_the_card() {
    let (w, h) = (96, 64);
    let picture = card_scene(w, h);
    let plans = find_on_flat(&picture, [0.1, 0.2, 0.7]);
    assert_eq!(
        plans.len(),
        2,
        "{:?}",
        plans.iter().map(|p| p.bbox).collect::<Vec<_>>()
    );
    assert_eq!(plans[0].kind, Kind::Shape);
    assert_eq!(plans[0].bbox, BBox::new(10, 10, 70, 50));
    assert_eq!(plans[1].bbox, BBox::new(30, 22, 46, 38));
}

/// A round badge filled with a vertical gradient (no colour covers 30 % of it) with a
/// square icon on it, on a flat backdrop: the badge is a panel seeded by its smooth rim,
/// and the icon its child.
#[test]
fn an_icon_on_a_gradient_badge_is_a_child_of_the_badge() {
    let (w, h) = (128, 128);
    let backdrop = [0.2, 0.2, 0.25];
    let mut picture = Field::filled(w, h, backdrop);
    let (cx, cy, r) = (64.0f32, 64.0f32, 50.0f32);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                let t = (y as f32 - (cy - r)) / (2.0 * r);
                picture.data[y * w + x] = [0.85 - 0.3 * t, 0.7 - 0.3 * t, 0.3];
            }
        }
    }
    for y in 52..76 {
        for x in 52..76 {
            picture.data[y * w + x] = [0.1, 0.3, 0.9];
        }
    }
    let plans = find_on_flat(&picture, backdrop);
    let boxes: Vec<BBox> = plans.iter().map(|p| p.bbox).collect();
    assert_eq!(plans.len(), 2, "{boxes:?}");
    assert_eq!(plans[0].kind, Kind::Shape, "{boxes:?}");
    assert_eq!(plans[1].bbox, BBox::new(52, 52, 76, 76), "{boxes:?}");
}

/// A pale icon on a pale card: a dark outline around a near-white face, on a mint card. The
/// face is close enough to the card's colour to pass the body fit's first tolerances, but it
/// is shut inside the icon's outline, so it is the icon's, not the card's.
#[test]
fn a_pale_icon_on_a_pale_card_keeps_its_face() {
    let (w, h) = (120, 90);
    let backdrop = [0.15, 0.3, 0.2];
    let mut picture = Field::filled(w, h, backdrop);
    for y in 10..80 {
        for x in 10..110 {
            picture.data[y * w + x] = [0.88, 0.97, 0.92];
        }
    }
    for y in 30..50 {
        for x in 40..60 {
            let edge = x == 40 || x == 59 || y == 30 || y == 49;
            picture.data[y * w + x] = if edge {
                [0.3, 0.3, 0.3]
            } else {
                [0.95, 0.95, 0.95]
            };
        }
    }
    let plans = find_on_flat(&picture, backdrop);
    let boxes: Vec<BBox> = plans.iter().map(|p| p.bbox).collect();
    assert_eq!(plans.len(), 2, "{boxes:?}");
    assert_eq!(plans[0].kind, Kind::Shape, "{boxes:?}");
    let icon = &plans[1];
    assert_eq!(icon.bbox, BBox::new(40, 30, 60, 50), "{boxes:?}");
    let face = icon.mask.iter().filter(|&&m| m).count();
    assert_eq!(face, 400, "the icon's face must be in its mask");
}

/// A black bin (wide at the top, tapering down, with a rim) with a white logo on its side,
/// on a flat page: clip art, not a card with an icon on it. It stays one element; the same
/// logo on a rounded card of the same colour is the card's child.
#[test]
fn a_logo_on_a_tapered_bin_stays_with_the_bin() {
    let (w, h) = (128, 112);
    let page = [0.8, 0.6, 0.8];
    let logo = |x: usize, y: usize| (54..74).contains(&x) && (50..70).contains(&y);
    let bin = Field::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let half = 50.0 - 20.0 * (fy - 16.0) / 84.0;
        let rim = (16.0..24.0).contains(&fy) && (8.0..120.0).contains(&fx);
        let body = (16.0..100.0).contains(&fy) && (fx - 64.0).abs() <= half;
        match (logo(x, y), rim || body) {
            (true, _) => [0.97, 0.97, 0.97],
            (false, true) => [0.05, 0.05, 0.05],
            (false, false) => page,
        }
    });
    let plans = find_on_flat(&bin, page);
    assert_eq!(
        plans.len(),
        1,
        "{:?}",
        plans.iter().map(|p| (p.kind, p.bbox)).collect::<Vec<_>>()
    );
    let card = Field::from_fn(w, h, |x, y| {
        let card = (14..114).contains(&x) && (16..100).contains(&y);
        match (logo(x, y), card) {
            (true, _) => [0.97, 0.97, 0.97],
            (false, true) => [0.05, 0.05, 0.05],
            (false, false) => page,
        }
    });
    let plans = find_on_flat(&card, page);
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[0].kind, Kind::Shape);
}
