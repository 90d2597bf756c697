//! The `objects` method (the default): salient objects on their own layers, background
//! filled in behind them.
//!
//! Each *round* ([`peel`]) does:
//! 1. **Saliency.** U²-Net-P ([`crate::decompose::nn::u2net`]) gives a 320×320 matte. If its raw
//!    peak is below [`MIN_PEAK`] the network sees nothing and the round stops.
//! 2. **Edges.** A fast colour guided filter ([`guided`]) fitted at a working resolution of
//!    at most [`WORKING_SIDE`] pixels snaps the matte to the picture's colour edges; its
//!    coefficients are applied to every full-resolution pixel, so alpha stays soft where the
//!    picture blends and sharp where it has edges.
//! 3. **Objects.** Connected cores of the refined matte become objects, most salient first;
//!    soft pixels go to the nearest object ([`select`]).
//! 4. **Background.** The object pixels, grown by a few pixels, are inpainted
//!    ([`crate::decompose::inpaint`]); pixels outside the objects keep the picture.
//! 5. **Split.** Each object pixel is split into an object colour/alpha and a background
//!    pixel so that the composite reproduces the picture ([`layers`]); object layers are
//!    cropped to their bounding boxes.
//!
//! U²-Net-P usually marks only the dominant subject, so when fewer than `layers − 1`
//! objects were found, up to [`MAX_ROUNDS`] rounds run, each on the previous round's
//! inpainted background (the sun behind a foreground card, say). Every round reproduces
//! the picture it started from, so the whole stack reproduces the input.
//!
//! **Stacking order** (bottom first): the background, then the rounds from last to first
//! (a later round found its objects *behind* the earlier ones). Within a round the objects
//! never share pixels, so their order only matters once the user moves them: they are
//! sorted by the lower edge of their bounding box, higher edge first — an object standing
//! lower in the frame is usually nearer the camera (ground-contact cue) — and on ties the
//! larger one goes behind. Names: "Background", "Object 1", "Object 2", … numbered by
//! round, then by salience (1 = the most salient of the first round).
//!
//! When nothing salient is found the regions method takes over (colour regions, no model);
//! were it unavailable, the picture would come back as one layer named [`NOTHING_FOUND`].

mod components;
mod guided;
mod layers;
mod peel;
mod select;

pub use self::peel::{GUIDED_EPS, MIN_PEAK, WORKING_SIDE};

use self::layers::ObjectLayer;
use crate::decompose::nn::u2net::Matte;
use crate::decompose::registry::{MethodSettings, decomposer_for};
use crate::decompose::{
    DecomposeError, Decomposer, LayerSpec, Method, Options, Progress, validate,
};
use crate::model::{Offset, RgbaImage};

/// Most rounds of detection and inpainting one decomposition runs.
pub const MAX_ROUNDS: usize = 2;
/// Layers asked for when the count is automatic: rounds stop earlier when nothing salient
/// is left.
pub const AUTO_LAYERS: usize = 5;
/// Name of the single layer returned when no salient object is found.
pub const NOTHING_FOUND: &str = "Image (no salient objects found)";

/// Salient-object decomposition with an inpainted background; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ObjectsDecomposer;

impl Decomposer for ObjectsDecomposer {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        validate(image, options)?;
        let layers = options.layers.or(AUTO_LAYERS);
        if layers < 2 {
            return Ok(vec![whole(image, "Background")]);
        }
        let wanted = layers - 1;
        // Rounds in the order they ran; each round's objects most salient first.
        let mut rounds: Vec<Vec<ObjectLayer>> = Vec::new();
        let mut background: Option<RgbaImage> = None;
        let mut found = 0;
        for round in 0..MAX_ROUNDS {
            if found >= wanted {
                break;
            }
            let picture = background.as_ref().unwrap_or(image);
            let range = (
                round as f32 / MAX_ROUNDS as f32,
                (round + 1) as f32 / MAX_ROUNDS as f32,
            );
            let seed = options.seed.wrapping_add(round as u64);
            let Some(peeled) = peel::peel(picture, wanted - found, seed, progress, range)? else {
                break;
            };
            found += peeled.objects.len();
            rounds.push(peeled.objects);
            background = Some(peeled.background);
        }
        let Some(background) = background else {
            return nothing_found(image, options, progress);
        };

        let mut specs = vec![LayerSpec::new("Background", background, Offset::default())];
        let mut first_number = vec![1usize; rounds.len()];
        for r in 1..rounds.len() {
            first_number[r] = first_number[r - 1] + rounds[r - 1].len();
        }
        for (objects, first) in rounds.into_iter().zip(first_number).rev() {
            for object in stacking_order(objects) {
                let name = format!("Object {}", first + usize::from(object.label) - 1);
                let offset = Offset::new(object.x as i32, object.y as i32);
                specs.push(LayerSpec::new(name, object.pixels, offset));
            }
        }
        progress.set(1.0, "done");
        Ok(specs)
    }
}

/// One round's objects bottom first: lower edge higher in the frame first, then larger first.
fn stacking_order(mut objects: Vec<ObjectLayer>) -> Vec<ObjectLayer> {
    objects.sort_by_key(|o| {
        let bottom = o.y + o.pixels.height();
        let area = u64::from(o.pixels.width()) * u64::from(o.pixels.height());
        (bottom, std::cmp::Reverse(area))
    });
    objects
}

/// What the user gets when no salient object is found: the regions method's layers when
/// it is available, else the picture as one layer named [`NOTHING_FOUND`].
fn nothing_found(
    image: &RgbaImage,
    options: &Options,
    progress: &Progress,
) -> Result<Vec<LayerSpec>, DecomposeError> {
    match decomposer_for(Method::Regions, &MethodSettings::default()) {
        Ok(regions) => regions.decompose(image, options, progress),
        Err(_) => {
            progress.set(1.0, "no salient objects");
            Ok(vec![whole(image, NOTHING_FOUND)])
        }
    }
}

/// `image` as one full-canvas layer.
fn whole(image: &RgbaImage, name: &str) -> LayerSpec {
    LayerSpec::new(name, image.clone(), Offset::default())
}

/// The first round's refined matte at working resolution (an all-zero plane of the
/// picture's size when the network sees nothing), for tools and tests that want to see what
/// the method sees.
pub fn refined_matte(image: &RgbaImage) -> Result<Matte, DecomposeError> {
    Ok(match peel::refine(image)? {
        Some((_, matte)) => matte,
        None => Matte::filled(image.width(), image.height(), 0.0),
    })
}
