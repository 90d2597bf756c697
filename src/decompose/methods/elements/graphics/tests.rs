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

#[test]
fn an_icon_on_a_card_is_a_child_of_the_card() {
    let (w, h) = (96, 64);
    let picture = card_scene(w, h);
    let underlay = Field::filled(w, h, [0.1, 0.2, 0.7]);
    let region = vec![true; w * h];
    let window = Window {
        picture: &picture,
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
    };
    let mut plans = Vec::new();
    find(&window, t, 0, &mut plans);
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
