//! The backdrop model: the smooth colour field (flat or gradient) that a design's elements
//! sit on, found by robust fitting, and the test of whether a picture has such a backdrop at
//! all (posters, slides, UI, cards) or is a photograph.
//!
//! The fit starts from the picture's border (or a panel's rim), continues it inwards with
//! [`push_pull`] (for a page seen all around its edge, a fitted surface under the push–pull,
//! [`smooth_model`], which climbs a gradient's slope), and then alternates: the pixels within a tolerance of the model are the
//! backdrop's, the model is refitted on them alone. The tolerance shrinks each round, so a
//! gradient that the first, border-only guess misses in the middle is still taken in, while
//! an element's flat fill, which differs from the backdrop, never is.
//!
//! A page's backdrop is also what connects to the seeds or to the region's edge
//! ([`Reach::Connected`]): a smooth patch shut inside an element (the dark screen of a drawn
//! television, close enough to a dark page to pass a tolerance) is the element's, not a
//! window onto the page. A panel's body may be cut apart by what is drawn on it (the faces
//! of an outlined box), so its fit takes in close pixels anywhere ([`Reach::Anywhere`]).

use super::field::{Field, distance, push_pull};
use super::trend::smooth_model;
use crate::decompose::segment::components::four_neighbours;
use crate::decompose::segment::morphology::flood;

/// Tolerances of the refitting rounds (largest per-channel difference, `0..=1`).
const ROUNDS: [f32; 6] = [0.12, 0.08, 0.05, 0.035, 0.025, 0.02];
/// A designed backdrop's pixels sit this close to the smooth model (median over the
/// border); a photograph's texture does not.
const DESIGNED_RING_MEDIAN: f32 = 0.008;
/// Share of the border that must be backdrop for the picture to count as designed.
const DESIGNED_RING_SHARE: f32 = 0.55;
/// Share of the whole picture that must be backdrop. Elements may cover most of a page: a
/// grid of six cards leaves 0.45 of it showing (the photograph's own smoothness test, in
/// `designed_elements`, is what tells a photo from a page).
const DESIGNED_SHARE: f32 = 0.3;

/// A fitted backdrop.
#[derive(Clone, Debug)]
pub struct Backdrop {
    /// The smooth model at every pixel (continued under the elements).
    pub model: Field,
    /// Pixels that belong to the backdrop.
    pub inlier: Vec<bool>,
    /// Median distance of the seed pixels (the border) to the model.
    pub seed_median: f32,
    /// Share of the seed pixels that are backdrop.
    pub seed_share: f32,
    /// Share of the region that is backdrop.
    pub share: f32,
}

impl Backdrop {
    /// Whether this looks like a designed, flat or gradient backdrop rather than a photo.
    pub fn is_designed(&self) -> bool {
        self.seed_median <= DESIGNED_RING_MEDIAN
            && self.seed_share >= DESIGNED_RING_SHARE
            && self.share >= DESIGNED_SHARE
    }
}

/// The pixels of a `width`×`height` grid within `ring` pixels of its edge.
pub fn border_ring(width: usize, height: usize, ring: usize) -> Vec<bool> {
    let mut seeds = vec![false; width * height];
    for y in 0..height {
        for x in 0..width {
            let edge = x.min(y).min(width - 1 - x).min(height - 1 - y);
            seeds[y * width + x] = edge < ring;
        }
    }
    seeds
}

/// Largest step between neighbouring pixels along the picture's edge within one stretch of
/// backdrop; a bigger step starts another stretch (a banner reaching the edge).
const EDGE_JUMP: f32 = 0.05;

/// Seeds for the picture's backdrop: the pixels of the outermost ring in its longest smooth
/// stretch (no step above [`EDGE_JUMP`] between neighbours), and that stretch's share of
/// the ring. A flat or gradient page gives one stretch all around; a page with a banner
/// along one edge gives the page's stretch, longer than the banner's; a photograph's
/// texture breaks its edge into short stretches.
pub fn edge_seeds(picture: &Field) -> (Vec<bool>, f32) {
    let (w, h) = (picture.width, picture.height);
    let mut ring: Vec<usize> = Vec::new();
    ring.extend(0..w);
    ring.extend((1..h).map(|y| y * w + w - 1));
    ring.extend((0..w.saturating_sub(1)).rev().map(|x| (h - 1) * w + x));
    ring.extend((1..h.saturating_sub(1)).rev().map(|y| y * w));
    let n = ring.len();
    let mut seeds = vec![false; w * h];
    if n < 4 {
        seeds.iter_mut().for_each(|s| *s = true);
        return (seeds, 1.0);
    }
    let jump =
        |k: usize| distance(picture.data[ring[k]], picture.data[ring[(k + 1) % n]]) > EDGE_JUMP;
    let Some(start) = (0..n).find(|&k| jump(k)) else {
        for &i in &ring {
            seeds[i] = true;
        }
        return (seeds, 1.0);
    };
    // Walk once around from just after a jump, cutting at every jump.
    let (mut best, mut best_len, mut run_start, mut run_len) = (0usize, 0usize, start + 1, 0usize);
    for step in 0..n {
        let k = (start + 1 + step) % n;
        run_len += 1;
        if jump(k) {
            if run_len > best_len {
                (best, best_len) = (run_start, run_len);
            }
            run_start = k + 1;
            run_len = 0;
        }
    }
    for step in 0..best_len {
        seeds[ring[(best + step) % n]] = true;
    }
    (seeds, best_len as f32 / n as f32)
}

/// Which pixels close to the model a fit may take in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Only those connected to a seed or to the region's edge through close pixels.
    Connected,
    /// Any of them.
    Anywhere,
}

/// Fits the backdrop of `picture` inside `region`, starting from `seeds` (pixels expected
/// to be backdrop: the picture's border, a panel's rim).
pub fn fit(picture: &Field, region: &[bool], seeds: &[bool], reach: Reach) -> Backdrop {
    fit_with(picture, region, seeds, reach, |f, k| push_pull(f, k, false))
}

/// Share of the picture's edge the page's seeds must cover for its model to be a fitted
/// surface ([`smooth_model`]): then the surface interpolates across the picture. From a
/// shorter stretch (a banner along one edge) it would extrapolate over the banner, where
/// the smallest curvature of the fit grows into a false gradient that the rounds then
/// follow into the banner.
const SURFACE_STRETCH: f32 = 0.9;

/// [`fit`] for a whole page seeded by its edge ([`edge_seeds`], whose `stretch` is the
/// share of the edge they cover): where the seeds go all around, the model follows a
/// gradient's slope under what covers it, up to a radial gradient's heart.
pub fn fit_page(picture: &Field, seeds: &[bool], stretch: f32) -> Backdrop {
    let region = vec![true; picture.data.len()];
    if stretch < SURFACE_STRETCH {
        return fit(picture, &region, seeds, Reach::Connected);
    }
    fit_with(picture, &region, seeds, Reach::Connected, smooth_model)
}

fn fit_with(
    picture: &Field,
    region: &[bool],
    seeds: &[bool],
    reach: Reach,
    smooth: impl Fn(&Field, &[bool]) -> Field,
) -> Backdrop {
    let n = picture.data.len();
    let start: Vec<bool> = (0..n).map(|i| seeds[i] && region[i]).collect();
    let mut model = smooth(picture, &start);
    let mut inlier = start.clone();
    for tolerance in ROUNDS {
        let close: Vec<bool> = (0..n)
            .map(|i| region[i] && distance(picture.data[i], model.data[i]) < tolerance)
            .collect();
        inlier = match reach {
            Reach::Connected => reachable(&close, &start, region, picture.width),
            Reach::Anywhere => close,
        };
        if !inlier.iter().any(|&v| v) {
            break;
        }
        model = smooth(picture, &inlier);
    }
    if reach == Reach::Connected {
        // What is shut in but matches the backdrop continued across it (the page inside a
        // ring, a panel seen through a basket's handle) is backdrop seen through a gap.
        let tolerance = ROUNDS[ROUNDS.len() - 1];
        for (i, v) in inlier.iter_mut().enumerate() {
            *v |= region[i] && distance(picture.data[i], model.data[i]) < tolerance;
        }
    }
    let mut seed_distances: Vec<f32> = (0..n)
        .filter(|&i| start[i])
        .map(|i| distance(picture.data[i], model.data[i]))
        .collect();
    let seed_count = seed_distances.len().max(1);
    seed_distances.sort_by(f32::total_cmp);
    let seed_median = seed_distances
        .get(seed_distances.len() / 2)
        .copied()
        .unwrap_or(1.0);
    let seed_share = (0..n).filter(|&i| start[i] && inlier[i]).count() as f32 / seed_count as f32;
    let region_count = region.iter().filter(|&&r| r).count().max(1);
    let share = inlier.iter().filter(|&&v| v).count() as f32 / region_count as f32;
    Backdrop {
        model,
        inlier,
        seed_median,
        seed_share,
        share,
    }
}

/// The `close` pixels connected (4-neighbours, through `close` pixels) to a seed or to the
/// edge of `region` (a pixel with a neighbour outside it or outside the grid).
fn reachable(close: &[bool], seeds: &[bool], region: &[bool], w: usize) -> Vec<bool> {
    let h = close.len() / w.max(1);
    let on_edge = |i: usize| {
        let mut inside = 0;
        for j in four_neighbours(i, w, h) {
            if !region[j] {
                return true;
            }
            inside += 1;
        }
        inside < 4
    };
    flood(close, |i| seeds[i] || on_edge(i), w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::rng::SplitMix64;

    fn card_on_gradient(w: usize, h: usize) -> Field {
        Field::from_fn(w, h, |x, y| {
            let t = (x + y) as f32 / (w + h) as f32;
            if (20..60).contains(&x) && (15..40).contains(&y) {
                [0.95, 0.95, 0.95]
            } else {
                [0.2 + 0.5 * t, 0.3, 0.8 - 0.4 * t]
            }
        })
    }

    #[test]
    fn a_gradient_backdrop_is_found_and_continued_under_a_card() {
        let (w, h) = (96, 64);
        let f = card_on_gradient(w, h);
        let fit = fit(
            &f,
            &vec![true; w * h],
            &border_ring(w, h, 2),
            Reach::Connected,
        );
        assert!(fit.is_designed(), "{fit:?}");
        for y in 15..40 {
            for x in 20..60 {
                assert!(
                    !fit.inlier[y * w + x],
                    "card pixel ({x},{y}) taken as backdrop"
                );
                let t = (x + y) as f32 / (w + h) as f32;
                let truth = [0.2 + 0.5 * t, 0.3, 0.8 - 0.4 * t];
                assert!(distance(fit.model.at(x, y), truth) < 0.06, "({x},{y})");
            }
        }
    }

    #[test]
    fn a_noisy_texture_is_not_a_designed_backdrop() {
        let (w, h) = (64, 64);
        let mut rng = SplitMix64::new(3);
        let mut f = Field::filled(w, h, [0.0; 3]);
        for p in &mut f.data {
            *p = [rng.unit(), rng.unit(), rng.unit()].map(|v| 0.3 + 0.4 * v);
        }
        let fit = fit(
            &f,
            &vec![true; w * h],
            &border_ring(w, h, 2),
            Reach::Connected,
        );
        assert!(!fit.is_designed(), "{fit:?}");
    }

    /// A brown page with a dark ring drawn on it, the ring's inside a dark grey screen close
    /// to the page's colour, and a second ring showing the page through its hole.
    fn rings_on_a_page(w: usize, h: usize) -> Field {
        let page = [0.35, 0.28, 0.2];
        Field::from_fn(w, h, |x, y| {
            let ring = |cx: usize, fill: Option<[f32; 3]>| {
                let d = x.abs_diff(cx).max(y.abs_diff(32));
                match d {
                    0..=9 => fill,
                    10..=12 => Some([0.05, 0.05, 0.05]),
                    _ => None,
                }
            };
            ring(24, Some([0.3, 0.3, 0.3]))
                .or_else(|| ring(70, None))
                .unwrap_or(page)
        })
    }

    #[test]
    fn a_patch_shut_inside_an_element_is_no_backdrop_but_a_hole_onto_it_is() {
        let (w, h) = (96, 64);
        let f = rings_on_a_page(w, h);
        let all = vec![true; w * h];
        let seeds = border_ring(w, h, 2);
        let connected = fit(&f, &all, &seeds, Reach::Connected);
        assert!(
            !connected.inlier[32 * w + 24],
            "the screen is the element's"
        );
        assert!(distance(connected.model.at(24, 32), [0.35, 0.28, 0.2]) < 0.01);
        assert!(
            connected.inlier[32 * w + 70],
            "the page seen through a ring"
        );
        // Fitted anywhere, the screen passes for backdrop.
        let anywhere = fit(&f, &all, &seeds, Reach::Anywhere);
        assert!(anywhere.inlier[32 * w + 24]);
    }

    /// A radial gradient page, bright in the middle, with a dark card off to one side.
    fn card_on_a_radial_page(w: usize, h: usize) -> Field {
        Field::from_fn(w, h, |x, y| {
            if (10..40).contains(&x) && (60..90).contains(&y) {
                return [0.1, 0.1, 0.3];
            }
            let (dx, dy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 / 2.0);
            let t = (1.0 - (dx * dx + dy * dy).sqrt() / (0.9 * w as f32)).max(0.0);
            [0.4 + 0.5 * t, 0.3 + 0.25 * t, 0.85 - 0.1 * t]
        })
    }

    #[test]
    fn a_page_fit_takes_in_the_bright_heart_of_a_radial_gradient() {
        let (w, h) = (240, 160);
        let f = card_on_a_radial_page(w, h);
        let (seeds, stretch) = edge_seeds(&f);
        assert!(stretch > 0.99);
        let heart = (h / 2) * w + w / 2;
        let page = fit_page(&f, &seeds, stretch);
        assert!(page.is_designed(), "{page:?}");
        assert!(page.inlier[heart], "the heart is the page's");
        assert!(!page.inlier[75 * w + 25], "the card is not");
        // A model that cannot climb the slope leaves the heart out.
        let plateau = fit(&f, &vec![true; w * h], &seeds, Reach::Connected);
        assert!(!plateau.inlier[heart]);
    }
}
