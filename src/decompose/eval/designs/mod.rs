//! Layered graphic designs built from real parts, for scoring decompositions on pictures
//! closer to what people decompose than the procedural [`scenes`](super::scenes):
//!
//! - public-domain clip art (Debian's `openclipart-svg`), each SVG rendered by resvg onto
//!   its own layer at a position and scale;
//! - cards, bars, badges and buttons with soft drop shadows (the shadow belongs to its
//!   element's layer, as in Crello, whose designs LayerD evaluates on);
//! - text in real fonts (Roboto, Open Sans, DejaVu Serif), anti-aliased glyphs, one colour
//!   per layer;
//! - over a flat, gradient (linear or radial) or photo background (GPL-2+ photos from
//!   Debian's `mate-backgrounds`), ten scenes each.
//!
//! The assets live in `assets/bench/designs/` (see its README for sources and licences) and
//! are read at run time, never compiled in. Text sees only the committed fonts (no system
//! font database), so a scene is the same on every machine. The [`SCENES`] recipes are
//! fixed: recipe `i` always draws the same design, scaled to the requested canvas.
//! [`HELD_OUT`] names as many more, drawn by the same templates from seeds that the fixed
//! set, the tests and the tuning of the decomposers never used: a check that a change
//! helps designs of this kind rather than these thirty. [`LAYOUTS`] are thirty designs of
//! three other kinds (app screens, card grids, slides: many small elements and several
//! lines of text), drawn from the same parts: a check that the decomposers hold up on
//! layouts they were never tuned on.

mod recipes;
mod render;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use resvg::usvg::{self, fontdb};

use super::scenes::{Scene, SceneKind};
use crate::model::RgbaImage;

/// Number of fixed design recipes: indices `0..SCENES`.
pub const SCENES: usize = 30;
/// The held-out recipes: the same templates and background kinds, other seeds.
pub const HELD_OUT: std::ops::Range<usize> = SCENES..2 * SCENES;
/// Recipes of three other templates (app screen, card grid, slide), ten each, a third of
/// them on each background kind.
pub const LAYOUTS: std::ops::Range<usize> = 2 * SCENES..3 * SCENES;

/// Why the designs could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse SVG {name}: {message}")]
    Svg { name: String, message: String },
    #[error("cannot decode photo {path}: {message}")]
    Photo { path: PathBuf, message: String },
    #[error("no {0} found in the designs assets folder")]
    Missing(&'static str),
    #[error("cannot allocate a {0:?} canvas")]
    Canvas((u32, u32)),
    #[error("no design recipe {0} (there are {SCENES}, as many held out and as many layouts)")]
    NoRecipe(usize),
}

/// The clip art, fonts and photos the recipes draw from, loaded once.
pub struct Assets {
    /// Parsed clip art, sorted by file name.
    clipart: Vec<(String, usvg::Tree)>,
    /// Decoded photos, sorted by file name.
    photos: Vec<(String, RgbaImage)>,
    /// Only the committed fonts.
    fontdb: Arc<fontdb::Database>,
}

impl Assets {
    /// `assets/bench/designs` of this source tree.
    pub fn default_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/bench/designs")
    }

    /// Loads `dir/svg/*.svg`, `dir/fonts/*.ttf` and `dir/photos/*.jpg`.
    pub fn load(dir: &Path) -> Result<Self, DesignError> {
        let mut db = fontdb::Database::new();
        for path in files(&dir.join("fonts"), "ttf")? {
            let data = read(&path)?;
            db.load_font_data(data);
        }
        if db.is_empty() {
            return Err(DesignError::Missing("fonts"));
        }
        let fontdb = Arc::new(db);
        let mut clipart = Vec::new();
        for path in files(&dir.join("svg"), "svg")? {
            let name = file_name(&path);
            let tree = render::parse_svg(&read(&path)?, &fontdb).map_err(|e| DesignError::Svg {
                name: name.clone(),
                message: e.to_string(),
            })?;
            clipart.push((name, tree));
        }
        let mut photos = Vec::new();
        for path in files(&dir.join("photos"), "jpg")? {
            let image = image::load_from_memory(&read(&path)?)
                .map_err(|e| DesignError::Photo {
                    path: path.clone(),
                    message: e.to_string(),
                })?
                .to_rgba8();
            photos.push((file_name(&path), image));
        }
        if clipart.is_empty() {
            return Err(DesignError::Missing("clip art"));
        }
        if photos.is_empty() {
            return Err(DesignError::Missing("photos"));
        }
        Ok(Self {
            clipart,
            photos,
            fontdb,
        })
    }

    /// Loads [`Self::default_dir`].
    pub fn load_default() -> Result<Self, DesignError> {
        Self::load(&Self::default_dir())
    }

    /// Number of clip-art files.
    pub fn clipart_count(&self) -> usize {
        self.clipart.len()
    }

    /// The photos (name, pixels), sorted by file name.
    pub fn photos(&self) -> &[(String, RgbaImage)] {
        &self.photos
    }

    /// Clip art `index` (modulo their number) rendered to fit the box `(x, y, w, h)` of a
    /// transparent `size` canvas: an object's silhouette in its alpha.
    pub fn clipart(
        &self,
        index: usize,
        rect: (f32, f32, f32, f32),
        size: (u32, u32),
    ) -> Result<RgbaImage, DesignError> {
        let (_, tree) = &self.clipart[index % self.clipart.len()];
        render::fit_tree(tree, rect, size)
    }
}

pub use render::photo_crop;

/// The background kind of recipe `index`: flat, gradient and photo in turn.
pub fn kind_of(index: usize) -> SceneKind {
    SceneKind::DESIGNS[index % SceneKind::DESIGNS.len()]
}

/// Draws design recipe `index` (`0..SCENES`, one of [`HELD_OUT`] or of [`LAYOUTS`]) on a
/// `size` canvas. The scene's seed is the recipe index.
pub fn scene(assets: &Assets, index: usize, size: (u32, u32)) -> Result<Scene, DesignError> {
    if index >= LAYOUTS.end {
        return Err(DesignError::NoRecipe(index));
    }
    let kind = kind_of(index);
    let layers = recipes::build(assets, index, kind, size)?;
    let (names, layers) = layers.into_iter().unzip();
    Ok(Scene {
        kind,
        seed: index as u64,
        layers,
        names,
    })
}

/// Every recipe on a `size` canvas, from the assets in `assets/bench/designs`.
pub fn suite(size: (u32, u32)) -> Result<Vec<Scene>, DesignError> {
    let assets = Assets::load_default()?;
    (0..SCENES).map(|i| scene(&assets, i, size)).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, DesignError> {
    std::fs::read(path).map_err(|source| DesignError::Io {
        path: path.to_owned(),
        source,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The files in `dir` ending in `.ext`, sorted (directory order differs between machines).
fn files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, DesignError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DesignError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    out.sort();
    Ok(out)
}
