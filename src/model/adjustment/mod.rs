//! Adjustment layers Strata draws: a layer that changes what lies below it instead of
//! adding pixels of its own. Today these are Photoshop's gradient map, invert, posterize,
//! threshold, levels, curves, channel mixer and exposure; the others stay kept and reported as not
//! drawn (see [`super::kept`]).
//!
//! In the render plan ([`super::render_plan`]) an adjustment is a pass-through canvas: a
//! copy of the backdrop, mapped pixel by pixel, then merged back through the layer's
//! opacity, mask and blend mode. Most adjustments here are one 8-bit colour table, looked
//! up either by the pixel's luminosity ([`Lookup::Luminosity`]) or by each channel's own
//! value ([`Lookup::Channels`]); the channel mixer is a matrix ([`Lookup::Matrix`]). Both
//! compositors map through the same table or matrix, so they agree exactly.

mod tone;

pub use tone::{CurvePoints, LevelsRecord};

use super::effects::{Gradient, TABLE_SIZE};
use super::pixels::{Premul, unit};

/// What an adjustment layer does to its backdrop, with the table made from it once.
#[derive(Clone, Debug)]
pub struct Adjustment {
    pub kind: AdjustmentKind,
    table: Vec<[u8; 3]>,
    /// The matrix of a [`Lookup::Matrix`] kind, made once like the table: `apply` runs per
    /// pixel.
    matrix: Matrix,
}

/// The matrix that changes nothing.
const IDENTITY: Matrix = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
];

/// Rows of weights over straight `[red, green, blue, 1]`, one per output channel.
pub type Matrix = [[f32; 4]; 3];

/// The kinds of adjustment Strata draws, with their settings as the file stores them.
#[derive(Clone, Debug, PartialEq)]
pub enum AdjustmentKind {
    /// Photoshop's gradient map (`grdm`): each pixel's luminosity picks a colour of the
    /// gradient, darkest at its start.
    GradientMap(Gradient),
    /// Invert (`nvrt`): each channel `v` becomes `255 - v`.
    Invert,
    /// Posterize (`post`): each channel's value falls in one of `levels` equal bins, each
    /// bin one of `levels` evenly spaced tones.
    Posterize { levels: u8 },
    /// Threshold (`thrs`): white where the luminosity is at least `level` (of 255), else
    /// black.
    Threshold { level: u8 },
    /// Levels (`levl`): the composite record, then the red, green and blue ones.
    Levels([LevelsRecord; 4]),
    /// Curves (`curv`): the composite curve, then the red, green and blue ones (`None`:
    /// the identity).
    Curves([Option<CurvePoints>; 4]),
    /// Channel mixer (`mixr`): each output channel a weighted sum of the red, green and
    /// blue inputs plus a constant, all in percent (see [`MixerRow`]); monochrome: every
    /// channel takes the first row's grey.
    ChannelMixer {
        monochrome: bool,
        rows: [MixerRow; 3],
    },
    /// Exposure (`expA`): in linear light, each channel scaled by `2^exposure`, `offset`
    /// added, then raised to `1 / gamma` (see [`tone`] for the linear light Photoshop
    /// uses).
    Exposure {
        exposure: f32,
        offset: f32,
        gamma: f32,
    },
}

/// One output channel of a channel mixer, in percent: `red`, `green` and `blue` weigh the
/// inputs (100 passes one through), `constant` adds a share of white.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixerRow {
    pub red: i16,
    pub green: i16,
    pub blue: i16,
    pub constant: i16,
}

/// How a pixel finds its table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// One entry for the pixel, picked by its luminosity; the entry is the new colour.
    Luminosity,
    /// Each channel picks its own entry by its own value and takes that entry's channel.
    Channels,
    /// No table: each channel is a row of [`Adjustment::matrix`] applied to the colour.
    Matrix,
}

/// Entries of a [`Lookup::Channels`] table: one per 8-bit value, as Photoshop maps 8-bit
/// documents.
pub const CHANNEL_TABLE_SIZE: usize = 256;

impl Adjustment {
    /// A gradient map over `gradient` (its opacity stops are ignored, as Photoshop does).
    pub fn gradient_map(gradient: Gradient) -> Self {
        let table = gradient
            .table()
            .into_iter()
            .map(|(rgb, _)| rgb.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
            .collect();
        Self {
            kind: AdjustmentKind::GradientMap(gradient),
            table,
            matrix: IDENTITY,
        }
    }

    /// The adjustment of `kind`, its table made.
    pub fn new(kind: AdjustmentKind) -> Self {
        match kind {
            AdjustmentKind::GradientMap(gradient) => Self::gradient_map(gradient),
            AdjustmentKind::Threshold { level } => {
                let table = (0..TABLE_SIZE)
                    .map(|i| {
                        let lum = i as f32 / (TABLE_SIZE - 1) as f32 * 255.0;
                        // Entries sit on a 1024-step grid; the 8-bit luminosity they stand
                        // for is the nearest whole value.
                        [if lum.round() >= f32::from(level) {
                            255
                        } else {
                            0
                        }; 3]
                    })
                    .collect();
                Self {
                    kind,
                    table,
                    matrix: IDENTITY,
                }
            }
            AdjustmentKind::ChannelMixer { monochrome, rows } => {
                let row = |r: &MixerRow| {
                    [r.red, r.green, r.blue, r.constant].map(|v| f32::from(v) / 100.0)
                };
                let matrix = if monochrome {
                    [row(&rows[0]); 3]
                } else {
                    rows.each_ref().map(row)
                };
                Self {
                    kind: AdjustmentKind::ChannelMixer { monochrome, rows },
                    table: Vec::new(),
                    matrix,
                }
            }
            _ => {
                let table = (0..CHANNEL_TABLE_SIZE)
                    .map(|v| {
                        let v = v as u8;
                        [0, 1, 2].map(|channel| tone::map_channel(&kind, channel, v))
                    })
                    .collect();
                Self {
                    kind,
                    table,
                    matrix: IDENTITY,
                }
            }
        }
    }

    /// How [`Self::table`] is looked up.
    pub fn lookup(&self) -> Lookup {
        match self.kind {
            AdjustmentKind::GradientMap(_) | AdjustmentKind::Threshold { .. } => Lookup::Luminosity,
            AdjustmentKind::ChannelMixer { .. } => Lookup::Matrix,
            _ => Lookup::Channels,
        }
    }

    /// The matrix of a [`Lookup::Matrix`] adjustment (weights as fractions, the constant
    /// as a share of white); the identity for the others.
    pub fn matrix(&self) -> Matrix {
        self.matrix
    }

    /// The colour table the adjustment maps through: [`TABLE_SIZE`] sRGB entries indexed
    /// by luminosity, or [`CHANNEL_TABLE_SIZE`] per channel (see [`Self::lookup`] and
    /// [`table_index`]); empty for a [`Lookup::Matrix`].
    pub fn table(&self) -> &[[u8; 3]] {
        &self.table
    }

    /// `px` (premultiplied) mapped: its colour replaced, its alpha kept.
    pub fn apply(&self, px: Premul) -> Premul {
        let a = px[3];
        if a <= 0.0 {
            return px;
        }
        let rgb = [px[0] / a, px[1] / a, px[2] / a].map(|c| c.clamp(0.0, 1.0));
        let entry = match self.lookup() {
            Lookup::Luminosity => self.table[table_index(luminosity(rgb), self.table.len())],
            Lookup::Channels => {
                let n = self.table.len();
                [0, 1, 2].map(|c| self.table[table_index(rgb[c], n)][c])
            }
            Lookup::Matrix => self.matrix.map(|row| {
                let v = row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2] + row[3];
                // To 8 bits, as Photoshop's result is, rounded half up as the shader does.
                (v.clamp(0.0, 1.0) * 255.0 + 0.5).floor() as u8
            }),
        };
        [
            unit(entry[0]) * a,
            unit(entry[1]) * a,
            unit(entry[2]) * a,
            a,
        ]
    }
}

/// Photoshop's luminosity weights (0.3, 0.59, 0.11), as the luminosity blend modes use.
pub fn luminosity(rgb: [f32; 3]) -> f32 {
    (0.3 * rgb[0] + 0.59 * rgb[1] + 0.11 * rgb[2]).clamp(0.0, 1.0)
}

/// The entry of a `len`-entry table for `value` (`0.0..=1.0`), rounded half up
/// (`floor(x + 0.5)`, as `plan.wgsl`'s `map_pixel` computes it: WGSL's `round` rounds half
/// to even).
pub fn table_index(value: f32, len: usize) -> usize {
    let last = len.saturating_sub(1);
    ((value.clamp(0.0, 1.0) * last as f32 + 0.5).floor() as usize).min(last)
}

#[cfg(test)]
mod tests;
