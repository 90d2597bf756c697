//! Photographs: salient objects from the objects method (U²-Net-P, inpainted background),
//! found on the analysis copy and, on a larger picture, solved again at full size.

use super::field::Field;
use super::plan::{self, Kind, Plan};
use crate::decompose::methods::objects::ObjectsDecomposer;
use crate::decompose::{DecomposeError, Decomposer, LayerCount, LayerSpec, Options, Progress};
use crate::model::pixels::BBox;
use crate::model::{Offset, RgbaImage};

/// Salient objects asked of the objects method on a photograph.
const PHOTO_OBJECTS: usize = 3;

/// Salient objects of a photograph from the objects method, background first, found on
/// `bare` (the analysis copy with its text peeled off) and solved at its resolution.
pub fn find(
    bare: &RgbaImage,
    options: &Options,
    progress: &Progress,
) -> Result<Vec<LayerSpec>, DecomposeError> {
    let objects = Options {
        layers: LayerCount::AtMost(1 + PHOTO_OBJECTS),
        ..options.clone()
    };
    ObjectsDecomposer.decompose(bare, &objects, progress)
}

/// The layers of [`find`] at the picture's resolution: on a larger picture each object's
/// matte and the filled background are scaled up and the layers solved again against
/// `picture`, so memory and time follow the analysis size.
pub fn solve(
    mut specs: Vec<LayerSpec>,
    mut picture: RgbaImage,
    scale: f32,
    progress: &Progress,
) -> Result<Vec<LayerSpec>, DecomposeError> {
    if scale > 1.0 && !specs.is_empty() {
        let background = Field::from_image(&specs[0].pixels);
        let plans: Vec<(String, Plan)> = specs
            .iter()
            .skip(1)
            .map(|s| (s.name.clone(), matte_plan(s, &background)))
            .collect();
        let mut solved = Vec::new();
        for (name, plan) in plans.iter().rev() {
            if let Some((pixels, offset)) = plan::peel(plan, &mut picture, scale) {
                solved.push(LayerSpec::new(name.clone(), pixels, offset));
            }
            progress.check()?;
        }
        solved.reverse();
        specs = std::iter::once(LayerSpec::new("Background", picture, Offset::default()))
            .chain(solved)
            .collect();
    }
    if let Some(bottom) = specs.first_mut() {
        bottom.name = "Background".into();
    }
    Ok(specs)
}

/// A plan that re-solves an analysis-resolution object layer at full resolution: its matte
/// (grown by a pixel, so scaling up cannot cut its edge) over the filled background.
fn matte_plan(spec: &LayerSpec, background: &Field) -> Plan {
    let (w, h) = (spec.pixels.width() as usize, spec.pixels.height() as usize);
    let (ox, oy) = (spec.offset.x.max(0) as usize, spec.offset.y.max(0) as usize);
    let alpha: Vec<f32> = spec
        .pixels
        .pixels()
        .map(|p| f32::from(p.0[3]) / 255.0)
        .collect();
    let mask: Vec<bool> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            (y.saturating_sub(1)..(y + 2).min(h))
                .any(|ny| (x.saturating_sub(1)..(x + 2).min(w)).any(|nx| alpha[ny * w + nx] > 0.0))
        })
        .collect();
    let underlay = Field::from_fn(w, h, |x, y| {
        background.at(
            (ox + x).min(background.width - 1),
            (oy + y).min(background.height - 1),
        )
    });
    Plan {
        kind: Kind::Graphic,
        bbox: BBox::at(ox as u32, oy as u32, w as u32, h as u32),
        mask,
        solid: vec![false; w * h],
        colour: Field::filled(w, h, [0.0; 3]),
        underlay,
        words: None,
        alpha: Some(Field::from_fn(w, h, |x, y| [alpha[y * w + x]; 3])),
    }
}
