//! Blend modes with their Photoshop keys, OpenRaster operators and W3C formulas.
//!
//! The formulas follow the W3C "Compositing and Blending Level 1" separable blend modes
//! (the same ones the PDF specification uses). Linear dodge (add) is not in that list;
//! Photoshop clamps `Cb + Cs` to 1, and so do we.

/// How a layer's colour is mixed with the colour below it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BlendMode {
    /// Source over: the layer covers what is below.
    #[default]
    Normal,
    Multiply,
    Screen,
    Overlay,
    Darken,
    Lighten,
    ColorDodge,
    ColorBurn,
    HardLight,
    SoftLight,
    Difference,
    Exclusion,
    /// Linear dodge: `min(1, below + layer)`.
    Add,
}

/// Photoshop key, OpenRaster `composite-op`, and the name shown to people, per mode.
const TABLE: [(BlendMode, [u8; 4], &str, &str); 13] = [
    (BlendMode::Normal, *b"norm", "svg:src-over", "Normal"),
    (BlendMode::Multiply, *b"mul ", "svg:multiply", "Multiply"),
    (BlendMode::Screen, *b"scrn", "svg:screen", "Screen"),
    (BlendMode::Overlay, *b"over", "svg:overlay", "Overlay"),
    (BlendMode::Darken, *b"dark", "svg:darken", "Darken"),
    (BlendMode::Lighten, *b"lite", "svg:lighten", "Lighten"),
    (
        BlendMode::ColorDodge,
        *b"div ",
        "svg:color-dodge",
        "Color Dodge",
    ),
    (
        BlendMode::ColorBurn,
        *b"idiv",
        "svg:color-burn",
        "Color Burn",
    ),
    (
        BlendMode::HardLight,
        *b"hLit",
        "svg:hard-light",
        "Hard Light",
    ),
    (
        BlendMode::SoftLight,
        *b"sLit",
        "svg:soft-light",
        "Soft Light",
    ),
    (
        BlendMode::Difference,
        *b"diff",
        "svg:difference",
        "Difference",
    ),
    (BlendMode::Exclusion, *b"smud", "svg:exclusion", "Exclusion"),
    (BlendMode::Add, *b"lddg", "svg:plus", "Linear Dodge (Add)"),
];

impl BlendMode {
    /// Every mode, in the order a blend-mode menu lists them.
    pub const ALL: [BlendMode; 13] = {
        let mut all = [BlendMode::Normal; 13];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> &'static (BlendMode, [u8; 4], &'static str, &'static str) {
        // The table lists every variant exactly once, in declaration order.
        &TABLE[self as usize]
    }

    /// The four-byte key in a PSD layer record (trailing spaces are significant).
    pub fn psd_key(self) -> [u8; 4] {
        self.row().1
    }

    /// The mode for a PSD key, or `None` for keys we cannot composite (hue, dissolve, …).
    pub fn from_psd_key(key: [u8; 4]) -> Option<Self> {
        TABLE.iter().find(|row| row.1 == key).map(|row| row.0)
    }

    /// The OpenRaster `composite-op` attribute value.
    pub fn ora_op(self) -> &'static str {
        self.row().2
    }

    /// The mode for an OpenRaster `composite-op`, or `None` if unknown.
    pub fn from_ora_op(op: &str) -> Option<Self> {
        TABLE.iter().find(|row| row.2 == op).map(|row| row.0)
    }

    /// Human-readable name, as Photoshop's layer panel spells it.
    pub fn label(self) -> &'static str {
        self.row().3
    }

    /// The separable blend function `B(Cb, Cs)` on straight colour in `0..=1`.
    #[inline]
    pub fn blend_channel(self, below: f32, src: f32) -> f32 {
        let (cb, cs) = (below, src);
        match self {
            BlendMode::Normal => cs,
            BlendMode::Multiply => cb * cs,
            BlendMode::Screen => cb + cs - cb * cs,
            BlendMode::Overlay => hard_light(cs, cb),
            BlendMode::Darken => cb.min(cs),
            BlendMode::Lighten => cb.max(cs),
            BlendMode::ColorDodge => {
                if cb <= 0.0 {
                    0.0
                } else if cs >= 1.0 {
                    1.0
                } else {
                    (cb / (1.0 - cs)).min(1.0)
                }
            }
            BlendMode::ColorBurn => {
                if cb >= 1.0 {
                    1.0
                } else if cs <= 0.0 {
                    0.0
                } else {
                    1.0 - ((1.0 - cb) / cs).min(1.0)
                }
            }
            BlendMode::HardLight => hard_light(cb, cs),
            BlendMode::SoftLight => {
                if cs <= 0.5 {
                    cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb)
                } else {
                    let d = if cb <= 0.25 {
                        ((16.0 * cb - 12.0) * cb + 4.0) * cb
                    } else {
                        cb.sqrt()
                    };
                    cb + (2.0 * cs - 1.0) * (d - cb)
                }
            }
            BlendMode::Difference => (cb - cs).abs(),
            BlendMode::Exclusion => cb + cs - 2.0 * cb * cs,
            BlendMode::Add => (cb + cs).min(1.0),
        }
    }
}

/// W3C hard light; overlay is hard light with the arguments swapped.
#[inline]
fn hard_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        cb * 2.0 * cs
    } else {
        let s = 2.0 * cs - 1.0;
        cb + s - cb * s
    }
}

impl std::fmt::Display for BlendMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_match_variant_order() {
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(row.0 as usize, i, "{:?} is out of place", row.0);
        }
    }

    #[test]
    fn keys_round_trip() {
        for mode in BlendMode::ALL {
            assert_eq!(BlendMode::from_psd_key(mode.psd_key()), Some(mode));
            assert_eq!(BlendMode::from_ora_op(mode.ora_op()), Some(mode));
        }
        assert_eq!(BlendMode::from_psd_key(*b"hue "), None);
    }

    #[test]
    fn overlay_is_hard_light_swapped() {
        for (cb, cs) in [(0.2, 0.7), (0.8, 0.3), (0.5, 0.5)] {
            let o = BlendMode::Overlay.blend_channel(cb, cs);
            let h = BlendMode::HardLight.blend_channel(cs, cb);
            assert!((o - h).abs() < 1e-6);
        }
    }
}
