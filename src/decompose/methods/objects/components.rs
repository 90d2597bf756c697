//! Connected cores of a matte, with the statistics object selection needs, on top of
//! [`crate::decompose::segment::label`] (8-connected).

use image::GrayImage;

use crate::decompose::segment;
use crate::model::BBox;

/// One connected component ("core") of the confident part of the matte.
#[derive(Clone, Debug, PartialEq)]
pub struct Core {
    /// Index into the list [`label_cores`] returns.
    pub id: usize,
    pub area: usize,
    /// Sum of the matte over the component.
    pub score: f32,
    pub bbox: BBox,
}

/// Labels the connected components of `values ≥ threshold` (`w × h`, row-major). Returns,
/// per pixel, the component id (`None` outside) and the components, with `score` summed
/// from `values`.
pub fn label_cores(
    values: &[f32],
    w: usize,
    h: usize,
    threshold: f32,
) -> (Vec<Option<u32>>, Vec<Core>) {
    let bytes: Vec<u8> = values
        .iter()
        .map(|&v| if v >= threshold { 255 } else { 0 })
        .collect();
    let Some(mask) = GrayImage::from_raw(w as u32, h as u32, bytes) else {
        return (vec![None; values.len()], Vec::new());
    };
    let labels = segment::label(&mask, 127);
    let ids = labels
        .map
        .iter()
        .map(|&l| l.checked_sub(1))
        .collect::<Vec<_>>();
    let cores = labels
        .components
        .iter()
        .enumerate()
        .map(|(id, c)| Core {
            id,
            area: c.area,
            score: c.pixels.iter().map(|&i| values[i as usize]).sum(),
            bbox: c.bbox,
        })
        .collect();
    (ids, cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blobs_with_their_scores() {
        #[rustfmt::skip]
        let values = [
            0.9, 0.8, 0.0, 0.0,
            0.7, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.6, 0.6,
        ];
        let (ids, cores) = label_cores(&values, 4, 3, 0.5);
        assert_eq!(cores.len(), 2);
        assert_eq!(cores[0].area, 3);
        assert!((cores[0].score - 2.4).abs() < 1e-6);
        assert_eq!(cores[0].bbox, BBox::new(0, 0, 2, 2));
        assert_eq!(ids[2], None);
        assert_eq!(ids[10], Some(1));
    }
}
