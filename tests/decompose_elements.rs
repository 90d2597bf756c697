//! The `elements` method (the default) end to end: text on its own named layer, panels and
//! what sits on them, an honest layer count, exact reconstruction at any size, and the bad
//! inputs issue #14 lists (nothing to find, a bounded count, a very large picture, Cancel).
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use image::{Rgba, RgbaImage};
use strata::decompose::eval::{
    Protocol, canvas_layers, designs, document_of, reconstruction, score_layers,
};
use strata::decompose::methods::elements::{ElementsDecomposer, is_real};
use strata::decompose::{
    DecomposeError, Decomposer as _, LayerCount, LayerSpec, Options, Progress,
};
use strata::model::composite;

fn decompose(image: &RgbaImage, layers: LayerCount) -> Vec<LayerSpec> {
    let options = Options {
        layers,
        ..Options::default()
    };
    ElementsDecomposer
        .decompose(image, &options, &Progress::new())
        .unwrap()
}

/// The composite of `specs` reproduces `image` within 1/255 (RMSE).
fn assert_reproduces(specs: &[LayerSpec], image: &RgbaImage) {
    let out = composite(&document_of(specs, image.dimensions()));
    let r = reconstruction(&out, image).unwrap();
    assert!(r.rmse < 1.0 / 255.0, "RMSE {:.3}/255", r.rmse * 255.0);
}

/// Soft IoU at 0 merges (LayerD protocol) of `specs` against the true `layers` of designs
/// recipe `recipe` is at least `floor`.
fn assert_iou_at_least(specs: &[LayerSpec], layers: &[RgbaImage], floor: f64, recipe: usize) {
    let predicted = canvas_layers(specs, layers[0].dimensions());
    let scores = score_layers(&predicted, layers, &Protocol::default()).unwrap();
    assert!(
        scores[0].alpha_iou >= floor,
        "recipe {recipe}: soft IoU {:.3} < {floor} ({:?})",
        scores[0].alpha_iou,
        names(specs)
    );
}

fn names(specs: &[LayerSpec]) -> Vec<&str> {
    specs.iter().map(|s| s.name.as_str()).collect()
}

/// Each designs recipe, at 768×512 and `--layers auto`, reproduces its picture and reaches
/// its soft IoU floor.
fn assert_designs_score(recipes: &[(usize, f64)]) {
    assert_designs_score_at((768, 512), recipes);
}

/// [`assert_designs_score`] at another size.
fn assert_designs_score_at(size: (u32, u32), recipes: &[(usize, f64)]) {
    let assets = designs::Assets::load_default().unwrap();
    for &(recipe, floor) in recipes {
        let scene = designs::scene(&assets, recipe, size).unwrap();
        let image = scene.composite();
        let specs = decompose(&image, LayerCount::Auto);
        assert_reproduces(&specs, &image);
        assert_iou_at_least(&specs, &scene.layers, floor, recipe);
    }
}

/// A flat design with a title, a card and clip art (recipe 12 of the designs set).
fn poster(size: (u32, u32)) -> RgbaImage {
    let assets = designs::Assets::load_default().unwrap();
    designs::scene(&assets, 12, size).unwrap().composite()
}

/// Art drawn over photographs (designs recipes 5: a bar with two clip-art pictures and a
/// title; 29: a puzzle piece with a drop shadow and a title): each piece of art comes out
/// as its own layer above the photo, not as a salient-object blob with the photo around it.
/// Floors a little below the measured soft IoU at 0 merges (0.68 and 0.97; before art over
/// photographs was separated, 0.47 and 0.52). Recipe 5 scored 0.82 before the parts of one
/// artwork were merged (see the next test): its basket's inner shading now stays with the
/// basket, which the camcorder overlapping it makes the protocol score lower, while the
/// benchmark's photo scenes gain on the whole (0.746 → 0.757).
#[test]
fn art_over_a_photograph_gets_its_own_layers() {
    assert_designs_score(&[(5, 0.65), (29, 0.85)]);
}

/// One artwork stays one layer and a photograph's grain no layer: recipe 27's multi-colour
/// clip art came out as a shape with its details on a second layer (soft IoU 0.81 at 0
/// merges, now 0.996), and recipe 23's photo background gave specks of "elements" around
/// its clip art (9 layers for 6, soft IoU 0.65; now 7 layers, 0.92).
#[test]
fn an_artwork_stays_whole_and_photo_grain_makes_no_layers() {
    let assets = designs::Assets::load_default().unwrap();
    for (recipe, floor, most_layers) in [(27, 0.95, 5), (23, 0.85, 8)] {
        let scene = designs::scene(&assets, recipe, (768, 512)).unwrap();
        let image = scene.composite();
        let specs = decompose(&image, LayerCount::Auto);
        assert_reproduces(&specs, &image);
        assert!(
            specs.len() <= most_layers,
            "recipe {recipe}: {} layers for {} ({:?})",
            specs.len(),
            scene.layers.len(),
            names(&specs)
        );
        assert_iou_at_least(&specs, &scene.layers, floor, recipe);
    }
}

/// The page behind the elements is a fitted surface where its edge goes all around, and
/// push–pull's plateau where a banner cuts the edge. Recipe 22: a radial gradient's bright
/// heart between a bin and a card was left out of a plateau model and became a layer that
/// bridged the two (soft IoU 0.940 at 768×512, 0.617 at 1224×816; now 0.994 and 0.996).
/// Recipe 3: a surface fitted above a banner, extrapolated over it, followed the banner into
/// the page (0.744 → 0.574) until only an all-round edge gets a surface.
#[test]
fn a_radial_gradient_page_is_followed_and_a_banner_is_not() {
    assert_designs_score(&[(22, 0.98), (3, 0.70)]);
}

/// A gradient badge whose clip art overhangs its edge, covering a third of its rim (recipe
/// 55, one of the held-out designs): the badge is a panel and the clip art its own layer
/// above it. Measured 0.72 at 0 merges; 0.39 while the badge's rim had to be three-quarters
/// body, when badge and clip art came out as one layer.
#[test]
fn a_badge_with_clip_art_over_its_edge_is_two_layers() {
    assert_designs_score(&[(55, 0.65)]);
}

/// Shaded art over a photograph (held-out recipe 56: a gradient badge with a sun on it and
/// a gradient button): the renderer draws their gradients in steps of several bytes, which
/// once kept them from counting as drawn, so the badge's lower half and the button stayed
/// in the photo. Measured 0.95 at 0 merges (was 0.71).
#[test]
fn shaded_art_over_a_photograph_is_found_whole() {
    assert_designs_score(&[(56, 0.85)]);
}

/// A gradient badge with clip art on it over grass (held-out recipe 41), at the analysis
/// size: where the photo inpainted under the badge missed the grass, the badge grew a ring
/// of photograph around it, and that ring, as the badge's child, enclosed the clip art and
/// took it in, so badge and clip art came out as one layer. Measured 0.95 at 0 merges (was
/// 0.30; 0.94 at 768×512, which the ring did not reach).
#[test]
fn art_on_a_badge_over_grass_is_not_swallowed_by_the_grass_around_it() {
    assert_designs_score_at((1024, 683), &[(41, 0.85)]);
}

/// Layouts the decomposer was never tuned on (`designs::LAYOUTS`): a grid of six cards with
/// clip art on them (recipes 63 and 81), which the text detector takes for one line of
/// huge letters read as "88", and an app screen whose recycling clip art holds lettering
/// in many colours (87). Neither is one colour of text: the cards and the clip art are
/// elements. Measured 0.71, 0.71 and 0.95 at 0 merges (0.53, 0.39 and 0.72 while the grid
/// and the lettering became text layers that took the pictures with them).
#[test]
fn a_grid_of_cards_or_lettered_clip_art_is_not_a_text_layer() {
    assert_designs_score(&[(63, 0.65), (81, 0.62), (87, 0.85)]);
}

/// Grids of six shadowed cards with clip art on them (layout recipes 72, flat, and 73, a
/// radial gradient): the cards cover more than half of the page, which once made the page
/// too small a share of the picture to be a designed backdrop, so the picture was taken
/// for a photograph and half the cards stayed in its background. Measured 0.99 and 0.99
/// at 0 merges (0.73 and 0.61 before).
#[test]
fn a_page_mostly_covered_by_cards_is_still_a_page() {
    assert_designs_score(&[(72, 0.9), (73, 0.9)]);
}

#[test]
fn a_plain_or_gradient_picture_gives_one_layer() {
    let plain = RgbaImage::from_pixel(320, 200, Rgba([40, 90, 160, 255]));
    assert_eq!(names(&decompose(&plain, LayerCount::Auto)), ["Background"]);
    let gradient = RgbaImage::from_fn(320, 200, |x, y| {
        Rgba([(x * 255 / 319) as u8, (y * 255 / 199) as u8, 128, 255])
    });
    let specs = decompose(&gradient, LayerCount::Auto);
    assert_eq!(names(&specs), ["Background"]);
    assert_reproduces(&specs, &gradient);
}

#[test]
fn a_design_splits_into_named_real_layers_that_reproduce_it() {
    let image = poster((768, 512));
    let specs = decompose(&image, LayerCount::Auto);
    eprintln!("{:?}", names(&specs));
    assert_eq!(specs[0].name, "Background");
    assert!(specs.len() >= 3, "{:?}", names(&specs));
    assert!(
        specs.iter().any(|s| s.name.starts_with("Text: ")),
        "the title was not read: {:?}",
        names(&specs)
    );
    for spec in &specs[1..] {
        assert!(is_real(spec), "{} is a ghost layer", spec.name);
    }
    // Text sits on top of the stack.
    let first_text = specs
        .iter()
        .position(|s| s.name.starts_with("Text"))
        .unwrap();
    assert!(
        specs[first_text..]
            .iter()
            .all(|s| s.name.starts_with("Text"))
    );
    assert_reproduces(&specs, &image);
}

#[test]
fn an_upper_bound_merges_layers_and_keeps_the_picture() {
    let image = poster((768, 512));
    let all = decompose(&image, LayerCount::Auto).len();
    assert!(all > 2);
    let specs = decompose(&image, LayerCount::AtMost(2));
    assert_eq!(specs.len(), 2);
    assert_reproduces(&specs, &image);
}

#[test]
fn a_large_picture_is_solved_at_full_size() {
    let small = poster((768, 512));
    let large = image::imageops::resize(&small, 2304, 1536, image::imageops::FilterType::Triangle);
    let specs = decompose(&large, LayerCount::Auto);
    assert!(specs.len() >= 3, "{:?}", names(&specs));
    assert_eq!(specs[0].pixels.dimensions(), (2304, 1536));
    assert_reproduces(&specs, &large);
}

#[test]
fn a_cancelled_job_stops() {
    let progress = Progress::new();
    progress.cancel();
    let err = ElementsDecomposer
        .decompose(&poster((384, 256)), &Options::default(), &progress)
        .unwrap_err();
    assert_eq!(err, DecomposeError::Cancelled);
}
