//! Blend modes with their Photoshop keys, OpenRaster operators and names.
//!
//! Every mode of Photoshop's layer panel is here. The maths is in [`super::blend_math`]: the
//! W3C "Compositing and Blending Level 1" formulas where the W3C defines the mode (they are
//! Adobe's own, from the PDF specification), and Photoshop's observed behaviour for the rest.
//!
//! OpenRaster names: the spec lists only the `svg:*` operators. Krita writes every other mode
//! as `krita:` followed by its internal composite-op id (`krita:linear_burn`,
//! `krita:darker color`, with the space) and reads `krita:*` back the same way, but reads an
//! `svg:` name outside the spec (such as `svg:exclusion`) as Normal. So a mode the spec has is
//! written with its `svg:` name, and every other mode with the `krita:` name Krita reads; on
//! reading, both are accepted, and so are the aliases in [`ORA_ALIASES`].

/// How a layer's colour is mixed with the colour below it.
///
/// The discriminants are stable (the GPU shaders switch on `mode as u32`); new modes go at
/// the end, and [`BlendMode::MENU`] gives the order people see.
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
    /// Each pixel either shows the layer fully opaque or the backdrop, at random with the
    /// layer's alpha as the probability (a fixed pattern, see [`super::blend_math::dissolve_threshold`]).
    Dissolve,
    /// The whole colour, below or layer, with the lower luminosity.
    DarkerColor,
    /// The whole colour, below or layer, with the higher luminosity.
    LighterColor,
    /// `max(0, below + layer − 1)`.
    LinearBurn,
    /// Linear burn below 50 % grey, linear dodge above.
    LinearLight,
    /// Colour burn below 50 % grey, colour dodge above.
    VividLight,
    /// Darken below 50 % grey, lighten above.
    PinLight,
    /// Every channel becomes 0 or 1: 1 where `below + layer` exceeds 1.
    HardMix,
    /// `max(0, below − layer)`.
    Subtract,
    /// `min(1, below / layer)`.
    Divide,
    /// The layer's hue with the saturation and luminosity below.
    Hue,
    /// The layer's saturation with the hue and luminosity below.
    Saturation,
    /// The layer's hue and saturation with the luminosity below.
    Color,
    /// The layer's luminosity with the hue and saturation below.
    Luminosity,
}

/// Number of blend modes.
const COUNT: usize = 27;

/// Photoshop key, OpenRaster `composite-op` written, and the name shown to people, per mode.
/// (One row a line, so the table reads as one.)
#[rustfmt::skip]
const TABLE: [(BlendMode, [u8; 4], &str, &str); COUNT] = [
    (BlendMode::Normal, *b"norm", "svg:src-over", "Normal"),
    (BlendMode::Multiply, *b"mul ", "svg:multiply", "Multiply"),
    (BlendMode::Screen, *b"scrn", "svg:screen", "Screen"),
    (BlendMode::Overlay, *b"over", "svg:overlay", "Overlay"),
    (BlendMode::Darken, *b"dark", "svg:darken", "Darken"),
    (BlendMode::Lighten, *b"lite", "svg:lighten", "Lighten"),
    (BlendMode::ColorDodge, *b"div ", "svg:color-dodge", "Color Dodge"),
    (BlendMode::ColorBurn, *b"idiv", "svg:color-burn", "Color Burn"),
    (BlendMode::HardLight, *b"hLit", "svg:hard-light", "Hard Light"),
    (BlendMode::SoftLight, *b"sLit", "svg:soft-light", "Soft Light"),
    (BlendMode::Difference, *b"diff", "svg:difference", "Difference"),
    // Not in the OpenRaster spec; Krita reads `svg:exclusion` as Normal.
    (BlendMode::Exclusion, *b"smud", "krita:exclusion", "Exclusion"),
    (BlendMode::Add, *b"lddg", "svg:plus", "Linear Dodge (Add)"),
    (BlendMode::Dissolve, *b"diss", "krita:dissolve", "Dissolve"),
    (BlendMode::DarkerColor, *b"dkCl", "krita:darker color", "Darker Color"),
    (BlendMode::LighterColor, *b"lgCl", "krita:lighter color", "Lighter Color"),
    (BlendMode::LinearBurn, *b"lbrn", "krita:linear_burn", "Linear Burn"),
    (BlendMode::LinearLight, *b"lLit", "krita:linear light", "Linear Light"),
    (BlendMode::VividLight, *b"vLit", "krita:vivid_light", "Vivid Light"),
    (BlendMode::PinLight, *b"pLit", "krita:pin_light", "Pin Light"),
    // Krita's plain "hard mix" is a different formula; this one is Photoshop's.
    (BlendMode::HardMix, *b"hMix", "krita:hard_mix_photoshop", "Hard Mix"),
    (BlendMode::Subtract, *b"fsub", "krita:subtract", "Subtract"),
    (BlendMode::Divide, *b"fdiv", "krita:divide", "Divide"),
    (BlendMode::Hue, *b"hue ", "svg:hue", "Hue"),
    (BlendMode::Saturation, *b"sat ", "svg:saturation", "Saturation"),
    (BlendMode::Color, *b"colr", "svg:color", "Color"),
    (BlendMode::Luminosity, *b"lum ", "svg:luminosity", "Luminosity"),
];

/// Other `composite-op` values read as a mode: Krita's ids for the modes written with their
/// `svg:` name (Krita itself writes those as `svg:*`, but a `krita:` prefix is what it reads
/// for any id), `svg:exclusion` as Strata wrote it before, and `svg:add`, which old Krita
/// versions wrote for addition.
const ORA_ALIASES: [(&str, BlendMode); 20] = [
    ("krita:normal", BlendMode::Normal),
    ("krita:multiply", BlendMode::Multiply),
    ("krita:screen", BlendMode::Screen),
    ("krita:overlay", BlendMode::Overlay),
    ("krita:darken", BlendMode::Darken),
    ("krita:lighten", BlendMode::Lighten),
    ("krita:dodge", BlendMode::ColorDodge),
    ("krita:burn", BlendMode::ColorBurn),
    ("krita:hard_light", BlendMode::HardLight),
    ("krita:soft_light_svg", BlendMode::SoftLight),
    // Krita's "Soft Light (Photoshop)".
    ("krita:soft_light", BlendMode::SoftLight),
    ("krita:diff", BlendMode::Difference),
    ("svg:exclusion", BlendMode::Exclusion),
    ("krita:add", BlendMode::Add),
    ("krita:linear_dodge", BlendMode::Add),
    ("svg:add", BlendMode::Add),
    ("krita:hue", BlendMode::Hue),
    ("krita:saturation", BlendMode::Saturation),
    ("krita:color", BlendMode::Color),
    ("krita:luminize", BlendMode::Luminosity),
];

impl BlendMode {
    /// Every mode, in declaration order.
    pub const ALL: [BlendMode; COUNT] = {
        let mut all = [BlendMode::Normal; COUNT];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    /// The blend menu as Photoshop groups it: a separator goes between groups.
    pub const MENU: [&'static [BlendMode]; 6] = [
        &[BlendMode::Normal, BlendMode::Dissolve],
        &[
            BlendMode::Darken,
            BlendMode::Multiply,
            BlendMode::ColorBurn,
            BlendMode::LinearBurn,
            BlendMode::DarkerColor,
        ],
        &[
            BlendMode::Lighten,
            BlendMode::Screen,
            BlendMode::ColorDodge,
            BlendMode::Add,
            BlendMode::LighterColor,
        ],
        &[
            BlendMode::Overlay,
            BlendMode::SoftLight,
            BlendMode::HardLight,
            BlendMode::VividLight,
            BlendMode::LinearLight,
            BlendMode::PinLight,
            BlendMode::HardMix,
        ],
        &[
            BlendMode::Difference,
            BlendMode::Exclusion,
            BlendMode::Subtract,
            BlendMode::Divide,
        ],
        &[
            BlendMode::Hue,
            BlendMode::Saturation,
            BlendMode::Color,
            BlendMode::Luminosity,
        ],
    ];

    fn row(self) -> &'static (BlendMode, [u8; 4], &'static str, &'static str) {
        // The table lists every variant exactly once, in declaration order.
        &TABLE[self as usize]
    }

    /// The four-byte key in a PSD layer record (trailing spaces are significant).
    pub fn psd_key(self) -> [u8; 4] {
        self.row().1
    }

    /// The mode for a PSD key, or `None` for keys that are not a layer blend mode
    /// (`pass`, pass-through, belongs to groups).
    pub fn from_psd_key(key: [u8; 4]) -> Option<Self> {
        TABLE.iter().find(|row| row.1 == key).map(|row| row.0)
    }

    /// The OpenRaster `composite-op` attribute value written for this mode.
    pub fn ora_op(self) -> &'static str {
        self.row().2
    }

    /// The mode for an OpenRaster `composite-op` (`svg:*`, Krita's `krita:*`, or an alias),
    /// or `None` if unknown.
    pub fn from_ora_op(op: &str) -> Option<Self> {
        TABLE
            .iter()
            .map(|row| (row.2, row.0))
            .chain(ORA_ALIASES)
            .find(|(name, _)| *name == op)
            .map(|(_, mode)| mode)
    }

    /// Human-readable name, as Photoshop's layer panel spells it.
    pub fn label(self) -> &'static str {
        self.row().3
    }

    /// For Photoshop's "special eight" modes, the colour a source moves towards as fill
    /// opacity drops: the mode's neutral colour, which leaves the backdrop unchanged (white
    /// for the burns, black for the dodges and difference, 50 % grey for vivid and linear
    /// light). `None` for every other mode, where fill simply multiplies with opacity, and
    /// for hard mix, which has no neutral colour and whose fill rule is not known.
    ///
    /// Where the layer overlaps the backdrop, these modes blend at the layer's opacity with
    /// the source colour moved `1 − fill` of the way to this colour; over transparency the
    /// layer is drawn at opacity × fill. Measured on `test_read_fill-opacity_src.psd` of the
    /// ag-psd corpus (linear light at 20 % fill over a partly transparent backdrop), this
    /// reproduces Photoshop's stored composite within 1/255, where opacity × fill is 25/255
    /// off; the other modes follow by their neutral colours.
    pub fn fill_neutral(self) -> Option<f32> {
        match self {
            BlendMode::ColorBurn | BlendMode::LinearBurn => Some(1.0),
            BlendMode::ColorDodge | BlendMode::Add | BlendMode::Difference => Some(0.0),
            BlendMode::VividLight | BlendMode::LinearLight => Some(0.5),
            _ => None,
        }
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
        assert_eq!(BlendMode::from_psd_key(*b"pass"), None);
        assert_eq!(BlendMode::from_ora_op("krita:hard mix"), None);
    }

    #[test]
    fn menu_lists_every_mode_once() {
        let listed: Vec<BlendMode> = BlendMode::MENU.concat();
        assert_eq!(listed.len(), BlendMode::ALL.len());
        for mode in BlendMode::ALL {
            assert_eq!(listed.iter().filter(|m| **m == mode).count(), 1, "{mode:?}");
        }
    }

    #[test]
    fn keys_and_names_are_unique() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert_ne!(a.1, b.1, "{:?} and {:?} share a PSD key", a.0, b.0);
                assert_ne!(a.2, b.2, "{:?} and {:?} share an ORA name", a.0, b.0);
            }
        }
        for (alias, _) in ORA_ALIASES {
            assert!(TABLE.iter().all(|row| row.2 != alias), "{alias} is written");
        }
    }

    #[test]
    fn ora_names_are_specs_or_kritas() {
        // Krita's ids, read back from its ORA files (KoCompositeOpRegistry.h).
        let krita = [
            ("krita:exclusion", BlendMode::Exclusion),
            ("krita:dissolve", BlendMode::Dissolve),
            ("krita:darker color", BlendMode::DarkerColor),
            ("krita:lighter color", BlendMode::LighterColor),
            ("krita:linear_burn", BlendMode::LinearBurn),
            ("krita:linear light", BlendMode::LinearLight),
            ("krita:vivid_light", BlendMode::VividLight),
            ("krita:pin_light", BlendMode::PinLight),
            ("krita:hard_mix_photoshop", BlendMode::HardMix),
            ("krita:subtract", BlendMode::Subtract),
            ("krita:divide", BlendMode::Divide),
            ("krita:luminize", BlendMode::Luminosity),
            ("svg:luminosity", BlendMode::Luminosity),
            ("svg:exclusion", BlendMode::Exclusion),
        ];
        for (name, mode) in krita {
            assert_eq!(BlendMode::from_ora_op(name), Some(mode), "{name}");
        }
        for mode in BlendMode::ALL {
            let op = mode.ora_op();
            assert!(op.starts_with("svg:") || op.starts_with("krita:"), "{op}");
        }
    }
}
