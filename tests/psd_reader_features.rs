//! Reader features no file of ours exercises, on small PSDs built byte by byte here: groups,
//! user masks, layers without transparency, Grayscale, flat files, ZIP, odd names, `Layr`.

use std::io::Write;

use strata::io::{Limits, psd};
use strata::model::{BlendMode, Document};

/// One layer record and its channel blobs (each starting with its compression word).
struct Rec {
    /// top, left, bottom, right
    rect: [i32; 4],
    channels: Vec<(i16, Vec<u8>)>,
    key: &'static [u8; 4],
    opacity: u8,
    clipping: u8,
    flags: u8,
    mask: Vec<u8>,
    pascal: Vec<u8>,
    /// What the Pascal name (with its length byte) is padded to: 4 by the spec.
    pad_to: usize,
    blocks: Vec<(&'static [u8; 4], Vec<u8>)>,
}

impl Rec {
    /// A visible, opaque `norm` layer of `w`×`h` at the origin with raw RGBA channels.
    fn pixels(name: &str, w: i32, h: i32, rgba: [u8; 4]) -> Self {
        let n = (w * h) as usize;
        let channels = [(-1, 3), (0, 0), (1, 1), (2, 2)];
        Rec {
            rect: [0, 0, h, w],
            channels: channels
                .iter()
                .map(|&(id, c)| (id, raw(&vec![rgba[c]; n])))
                .collect(),
            key: b"norm",
            opacity: 255,
            clipping: 0,
            flags: 0x08,
            mask: Vec::new(),
            pascal: name.as_bytes().to_vec(),
            pad_to: 4,
            blocks: Vec::new(),
        }
    }

    /// A group record: `3` marks the end below the children, `1`/`2` the folder above.
    fn section(kind: u32, name: &str) -> Self {
        let mut rec = Rec::pixels(name, 0, 0, [0; 4]);
        rec.blocks.push((b"lsct", kind.to_be_bytes().to_vec()));
        rec
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.rect.iter().for_each(|v| out.extend(v.to_be_bytes()));
        out.extend((self.channels.len() as u16).to_be_bytes());
        for (id, blob) in &self.channels {
            out.extend(id.to_be_bytes());
            out.extend((blob.len() as u32).to_be_bytes());
        }
        out.extend(b"8BIM");
        out.extend(self.key);
        out.extend([self.opacity, self.clipping, self.flags, 0]);
        let mut extra = Vec::new();
        extra.extend((self.mask.len() as u32).to_be_bytes());
        extra.extend(&self.mask);
        extra.extend(0u32.to_be_bytes());
        extra.push(self.pascal.len() as u8);
        extra.extend(&self.pascal);
        let name_len = (1 + self.pascal.len()).next_multiple_of(self.pad_to);
        extra.resize(8 + self.mask.len() + name_len, 0);
        for (key, data) in &self.blocks {
            extra.extend(b"8BIM");
            extra.extend(*key);
            extra.extend((data.len() as u32).to_be_bytes());
            extra.extend(data);
        }
        out.extend((extra.len() as u32).to_be_bytes());
        out.extend(extra);
        out
    }
}

fn raw(plane: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend(plane);
    out
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).expect("compress");
    z.finish().expect("finish")
}

fn luni(name: &str, with_nul: bool) -> Vec<u8> {
    let mut units: Vec<u16> = name.encode_utf16().collect();
    if with_nul {
        units.push(0);
    }
    let mut out = (units.len() as u32).to_be_bytes().to_vec();
    units.iter().for_each(|u| out.extend(u.to_be_bytes()));
    out.resize(out.len().next_multiple_of(4), 0);
    out
}

/// Layer info: count (negative: merged alpha), records, channel data, padded to even.
fn layer_info(records: &[Rec]) -> Vec<u8> {
    let mut out = (-(records.len() as i16)).to_be_bytes().to_vec();
    records.iter().for_each(|r| out.extend(r.bytes()));
    records
        .iter()
        .flat_map(|r| &r.channels)
        .for_each(|(_, blob)| out.extend(blob));
    out.resize(out.len().next_multiple_of(2), 0);
    out
}

/// A whole file: header, no colour data or resources, the layer info (if any) wrapped in
/// its section, then the image data as given.
fn file(
    mode: u16,
    channels: u16,
    (w, h): (u32, u32),
    info: Option<Vec<u8>>,
    image: &[u8],
) -> Vec<u8> {
    let mut out = b"8BPS\0\x01\0\0\0\0\0\0".to_vec();
    out.extend(channels.to_be_bytes());
    out.extend(h.to_be_bytes());
    out.extend(w.to_be_bytes());
    out.extend(8u16.to_be_bytes());
    out.extend(mode.to_be_bytes());
    out.extend([0; 8]);
    match info {
        Some(info) => {
            out.extend((info.len() as u32 + 8).to_be_bytes());
            out.extend((info.len() as u32).to_be_bytes());
            out.extend(info);
            out.extend([0; 4]);
        }
        None => out.extend([0; 4]),
    }
    out.extend(image);
    out
}

/// A raw composite of `planes`, each `w·h` bytes.
fn raw_image(planes: &[Vec<u8>]) -> Vec<u8> {
    raw(&planes.concat())
}

fn read(bytes: &[u8]) -> Document {
    psd::read(bytes, &Limits::default()).expect("valid file")
}

/// A 2×1 RGB file with layers `records` and an opaque grey composite.
fn rgb_file(records: &[Rec]) -> Vec<u8> {
    let planes = vec![vec![9; 2]; 4];
    file(3, 4, (2, 1), Some(layer_info(records)), &raw_image(&planes))
}

#[test]
fn groups_are_read_as_groups_with_their_properties() {
    let mut b = Rec::pixels("b", 1, 1, [1, 2, 3, 255]);
    b.opacity = 128;
    let mut inner = Rec::section(1, "inner");
    inner.opacity = 128;
    inner.key = b"mul ";
    let mut outer = Rec::section(2, "outer (closed, hidden)");
    outer.flags |= 0x02;
    // The section block's own key (pass-through) wins over the record's.
    outer.blocks[0].1.extend(b"8BIMpass");
    let mut top = Rec::pixels("top", 1, 1, [4, 5, 6, 255]);
    top.opacity = 51;
    let records = [
        Rec::pixels("bottom", 2, 1, [7, 8, 9, 255]),
        Rec::section(3, "</Layer group>"),
        Rec::pixels("a", 1, 1, [1, 1, 1, 255]),
        Rec::section(3, "</Layer group>"),
        b,
        inner,
        outer,
        top,
    ];
    let doc = read(&rgb_file(&records));
    doc.check_tree().expect("a valid tree");
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["bottom", "a", "b", "top"]);
    let group_names: Vec<&str> = doc.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(group_names, ["outer (closed, hidden)", "inner"]);
    let (outer, inner) = (&doc.groups[0], &doc.groups[1]);
    assert!(!outer.visible && outer.collapsed && outer.pass_through);
    assert!(inner.visible && !inner.collapsed && !inner.pass_through);
    assert_eq!(inner.blend, BlendMode::Multiply);
    assert!((inner.opacity - 128.0 / 255.0).abs() < 1e-6);
    assert_eq!(inner.parent, Some(outer.id));
    let parents: Vec<_> = doc.layers.iter().map(|l| l.parent).collect();
    assert_eq!(parents, [None, Some(outer.id), Some(inner.id), None]);
    let shown: Vec<bool> = doc.layers.iter().map(|l| doc.is_shown(l.id)).collect();
    assert_eq!(
        shown,
        [true, false, false, true],
        "a hidden group hides its members"
    );
    let opacity: Vec<f32> = doc.layers.iter().map(|l| l.opacity).collect();
    let expected = [1.0, 1.0, 128.0 / 255.0, 0.2];
    for (o, e) in opacity.iter().zip(expected) {
        assert!((o - e).abs() < 1e-6, "opacity {o} != {e}");
    }
    assert_eq!(doc.layers[2].pixels.get_pixel(0, 0).0, [1, 2, 3, 255]);
}

#[test]
fn empty_groups_are_left_out_with_a_notice() {
    let records = [
        Rec::pixels("bottom", 2, 1, [7, 8, 9, 255]),
        Rec::section(3, "</Layer group>"),
        Rec::section(1, "nothing inside"),
    ];
    let (doc, notices) =
        psd::read_with_notices(&rgb_file(&records), &Limits::default()).expect("readable");
    assert!(doc.groups.is_empty());
    assert!(
        notices
            .iter()
            .any(|n| n.to_string().contains("1 empty group")),
        "{notices:?}"
    );
}

#[test]
fn clipping_bytes_are_read() {
    let mut clipped = Rec::pixels("clipped", 1, 1, [1, 2, 3, 255]);
    clipped.clipping = 1;
    let doc = read(&rgb_file(&[Rec::pixels("base", 2, 1, [0; 4]), clipped]));
    assert!(!doc.layers[0].clipped && doc.layers[1].clipped);
}

#[test]
fn user_masks_are_read_with_their_own_rectangle() {
    let mut masked = Rec::pixels("masked", 2, 1, [10, 20, 30, 40]);
    // The mask has its own 3×3 rectangle in the mask data, not the layer's 2×1: top 0,
    // left 0, bottom 3, right 3, default colour 255, disabled (flag bit 1), padding.
    masked.mask = [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 3],
        [0, 0, 0, 3],
        [255, 0x02, 0, 0],
    ]
    .concat();
    masked.channels.insert(1, (-2, raw(&[0xAA; 9])));
    let records = [masked, Rec::pixels("after", 2, 1, [50, 60, 70, 80])];
    let doc = read(&rgb_file(&records));
    assert_eq!(doc.layers[0].pixels.get_pixel(1, 0).0, [10, 20, 30, 40]);
    let mask = doc.layers[0].mask.as_ref().expect("the mask is read");
    assert_eq!((mask.pixels.width(), mask.pixels.height()), (3, 3));
    assert!(mask.pixels.pixels().all(|p| p.0 == [0xAA]));
    assert_eq!(mask.background, 255);
    assert!(!mask.enabled, "disabled in the file");
    assert_eq!(
        doc.layers[1].pixels.get_pixel(1, 0).0,
        [50, 60, 70, 80],
        "alignment kept"
    );
}

#[test]
fn layers_without_transparency_are_opaque_and_zip_decodes() {
    let mut opaque = Rec::pixels("opaque", 2, 1, [1, 2, 3, 0]);
    opaque.channels.remove(0);
    let mut zipped = Rec::pixels("zip", 2, 1, [0; 4]);
    zipped.channels = vec![
        (0, [vec![0, 2], zlib(&[100, 101])].concat()),
        (1, [vec![0, 3], zlib(&[100, 1])].concat()), // prediction: deltas per row
        (2, [vec![0, 2], zlib(&[7, 8])].concat()),
        (-1, [vec![0, 2], zlib(&[255, 128])].concat()),
    ];
    let doc = read(&rgb_file(&[opaque, zipped]));
    assert_eq!(doc.layers[0].pixels.get_pixel(0, 0).0, [1, 2, 3, 255]);
    assert_eq!(doc.layers[1].pixels.get_pixel(1, 0).0, [101, 101, 8, 128]);
}

#[test]
fn names_blend_keys_and_locks() {
    let mut mac = Rec::pixels("", 1, 1, [0; 4]);
    mac.pascal = b"Caf\x8e".to_vec(); // MacRoman, no luni
    let mut krita = Rec::pixels("Red box", 1, 1, [0; 4]);
    krita.blocks.push((b"luni", luni("Red box ✓", true)));
    krita.key = b"zzzz";
    // Padded to 2 instead of 4: the luni block right after it must still be found.
    let mut short_pad = Rec::pixels("abcd", 1, 1, [0; 4]);
    short_pad.pad_to = 2;
    short_pad.blocks.push((b"luni", luni("abcd ✓", false)));
    short_pad
        .blocks
        .push((b"lspf", 0x8000_0000u32.to_be_bytes().to_vec()));
    short_pad.key = b"lddg";
    let doc = read(&rgb_file(&[mac, krita, short_pad]));
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Café", "Red box ✓", "abcd ✓"]);
    assert_eq!(
        doc.layers[1].blend,
        BlendMode::Normal,
        "an unknown key falls back"
    );
    assert_eq!(doc.layers[2].blend, BlendMode::Add);
    assert!(doc.layers[2].locked && !doc.layers[1].locked);
}

#[test]
fn grayscale_documents_read() {
    let mut grey = Rec::pixels("grey", 2, 1, [0; 4]);
    grey.channels = vec![(-1, raw(&[255, 51])), (0, raw(&[30, 200]))];
    let info = layer_info(&[grey]);
    let image = raw_image(&[vec![30, 255], vec![255, 51]]);
    let doc = read(&file(1, 2, (2, 1), Some(info), &image));
    assert_eq!(doc.layers[0].pixels.get_pixel(1, 0).0, [200, 200, 200, 51]);
    let flat = read(&file(1, 2, (2, 1), None, &image));
    // The flat composite is un-matted: grey 255 at alpha 51 is white.
    assert_eq!(flat.layers[0].pixels.get_pixel(0, 0).0, [30, 30, 30, 255]);
    assert_eq!(flat.layers[0].pixels.get_pixel(1, 0).0, [255, 255, 255, 51]);
}

#[test]
fn flat_files_become_one_background_layer() {
    // RGB without alpha, raw.
    let image = raw_image(&[vec![1, 2], vec![3, 4], vec![5, 6]]);
    let doc = read(&file(3, 3, (2, 1), None, &image));
    assert_eq!(doc.layers.len(), 1);
    assert_eq!(doc.layers[0].name, "Background");
    assert_eq!(doc.layers[0].pixels.get_pixel(1, 0).0, [2, 4, 6, 255]);

    // RGBA matted over white, RLE: (246, 159, 159, 96) is (231, 0, 0) straight; a fully
    // transparent pixel is stored white.
    let mut rle = vec![0, 1];
    rle.extend([0, 4].repeat(4));
    for (a, b) in [(246, 255), (159, 255), (159, 255), (96, 0)] {
        rle.extend([1, a, b]);
        rle.push(0x80); // a no-op, as some encoders emit
    }
    let doc = read(&file(3, 4, (2, 1), None, &rle));
    assert_eq!(doc.layers[0].pixels.get_pixel(0, 0).0, [231, 0, 0, 96]);
    assert_eq!(doc.layers[0].pixels.get_pixel(1, 0).0, [0, 0, 0, 0]);

    // ZIP composite: one stream for all channels, spot channel included.
    let mut zip = vec![0, 2];
    zip.extend(zlib(&[10, 11, 20, 21, 30, 31, 255, 255, 99, 99]));
    let doc = read(&file(3, 5, (2, 1), None, &zip));
    assert_eq!(doc.layers[0].pixels.get_pixel(1, 0).0, [11, 21, 31, 255]);
}

/// A file whose layer info is empty and whose records sit in the tagged block `key`, as
/// Photoshop stores 16-bit layers (`Lr16`). The block holds the layer info without a length.
fn file_with_block(key: &[u8; 4], depth: u16, info: &[u8], image: &[u8]) -> Vec<u8> {
    let mut section = vec![0; 8]; // empty layer info, empty global layer mask info
    section.extend(b"8BIM");
    section.extend(key);
    section.extend((info.len() as u32).to_be_bytes());
    section.extend(info);
    section.resize(section.len().next_multiple_of(4), 0);
    let mut bytes = file(3, 4, (2, 1), None, &[]);
    bytes[22..24].copy_from_slice(&depth.to_be_bytes());
    bytes.truncate(bytes.len() - 4); // replace the empty layer and mask section
    bytes.extend((section.len() as u32).to_be_bytes());
    bytes.extend(section);
    bytes.extend(image);
    bytes
}

fn be16(samples: &[u16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_be_bytes()).collect()
}

#[test]
fn layers_inside_a_layr_block_are_found() {
    let info = layer_info(&[Rec::pixels("in Layr", 1, 1, [1, 2, 3, 4])]);
    let doc = read(&file_with_block(
        b"Layr",
        8,
        &info,
        &raw_image(&vec![vec![9; 2]; 4]),
    ));
    assert_eq!(doc.layers[0].name, "in Layr");
    assert_eq!(doc.layers[0].pixels.get_pixel(0, 0).0, [1, 2, 3, 4]);
}

#[test]
fn sixteen_bit_files_are_read_as_eight_bit() {
    let mut deep = Rec::pixels("deep", 2, 1, [0; 4]);
    deep.channels = vec![
        (-1, raw(&be16(&[65535, 32768]))),
        (0, raw(&be16(&[0, 65535]))),
        // RLE over bytes: one literal of 4 bytes (0x1234, 0x8000).
        (1, vec![0, 1, 0, 5, 3, 0x12, 0x34, 0x80, 0x00]),
        // ZIP with prediction: 16-bit deltas 0x0100, 0x0100 → 0x0100, 0x0200.
        (2, [vec![0, 3], zlib(&be16(&[0x0100, 0x0100]))].concat()),
    ];
    let composite = raw(&be16(&[0, 65535, 4660, 32768, 256, 512, 65535, 65535]));
    let doc = read(&file_with_block(
        b"Lr16",
        16,
        &layer_info(&[deep]),
        &composite,
    ));
    let layer = &doc.layers[0];
    assert_eq!(layer.name, "deep");
    // 16 → 8 bit rounds: 0x1234 = 4660 → 18.13 → 18, 0x8000 → 128, 0x0200 → 1.99 → 2.
    assert_eq!(layer.pixels.get_pixel(0, 0).0, [0, 18, 1, 255]);
    assert_eq!(layer.pixels.get_pixel(1, 0).0, [255, 128, 2, 128]);
    let flat = psd::read_composite(
        &file_with_block(b"Lr16", 16, &[], &composite),
        &Limits::default(),
    )
    .expect("16-bit composite");
    assert_eq!(flat.get_pixel(1, 0).0, [255, 128, 2, 255]);
}

/// Groups deeper than this are folded into their members (Photoshop allows 10 levels).
fn psd_max_depth() -> usize {
    64
}

#[test]
fn deeply_nested_and_unbalanced_groups_read_without_recursion() {
    // 10 000 nested groups around one layer (20 001 records; the count is an i16 in PSD): the
    // reader walks records with an explicit stack,
    // so depth costs memory in proportion to the records, never call-stack frames.
    const DEPTH: usize = 10_000;
    let mut records = Vec::with_capacity(2 * DEPTH + 1);
    records.extend((0..DEPTH).map(|_| Rec::section(3, "</Layer group>")));
    records.push(Rec::pixels("deep", 1, 1, [1, 2, 3, 255]));
    records.extend((0..DEPTH).map(|i| {
        let mut folder = Rec::section(1, "g");
        // One hidden group anywhere hides the layer inside.
        if i == DEPTH / 2 {
            folder.flags |= 0x02;
        }
        folder
    }));
    let (doc, notices) =
        psd::read_with_notices(&rgb_file(&records), &Limits::default()).expect("readable");
    assert_eq!(doc.layers.len(), 1);
    assert_eq!(doc.groups.len(), psd_max_depth());
    assert!(
        !doc.layers[0].visible,
        "the hidden folded group hides the layer"
    );
    assert!(!doc.is_shown(doc.layers[0].id));
    assert!(
        notices
            .iter()
            .any(|n| n.to_string().contains("nested deeper")),
        "{notices:?}"
    );

    // More group ends than starts, and folders that never close: tolerated, layers kept.
    let unbalanced = [
        Rec::section(3, "</Layer group>"),
        Rec::section(3, "</Layer group>"),
        Rec::pixels("kept", 1, 1, [4, 5, 6, 255]),
        Rec::section(1, "open"),
        Rec::section(2, "open too"),
    ];
    let doc = read(&rgb_file(&unbalanced));
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["kept"]);
}

#[test]
fn fill_opacity_and_the_new_blend_keys_are_read() {
    let mut red = Rec::pixels("red", 1, 1, [255, 0, 0, 255]);
    red.key = b"lLit";
    red.blocks.push((b"iOpa", vec![51, 0, 0, 0]));
    let mut hue = Rec::pixels("hue", 1, 1, [0, 0, 255, 255]);
    hue.key = b"hue ";
    let doc = read(&rgb_file(&[
        Rec::pixels("bottom", 2, 1, [0, 255, 0, 255]),
        red,
        hue,
    ]));
    assert_eq!(doc.layers[1].blend, BlendMode::LinearLight);
    assert_eq!(doc.layers[1].fill_opacity, 51.0 / 255.0);
    assert_eq!(doc.layers[1].opacity, 1.0);
    assert_eq!(doc.layers[2].blend, BlendMode::Hue);
    assert_eq!(doc.layers[2].fill_opacity, 1.0, "no iOpa block: full fill");
}

#[test]
fn effects_adjustments_type_and_smart_objects_are_announced_once() {
    let plain = Rec::pixels("plain", 1, 1, [0; 4]);
    let mut shadow = Rec::pixels("shadow", 1, 1, [0; 4]);
    shadow.blocks.push((b"lfx2", vec![0; 8]));
    shadow.blocks.push((b"lrFX", vec![0; 4])); // the same kind again: counted once
    let mut glow = Rec::pixels("glow", 1, 1, [0; 4]);
    glow.blocks.push((b"lfx2", vec![0; 8]));
    let mut levels = Rec::pixels("levels", 0, 0, [0; 4]);
    levels.blocks.push((b"levl", vec![0; 4]));
    let mut title = Rec::pixels("title", 1, 1, [0; 4]);
    title.blocks.push((b"TySh", vec![0; 4]));
    let bytes = rgb_file(&[plain, shadow, glow, levels, title]);
    let (doc, notices) = psd::read_with_notices(&bytes, &Limits::default()).expect("valid");
    assert_eq!(doc.layers.len(), 5);
    let texts: Vec<String> = notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "2 layers ('shadow', 'glow') have effects that are not drawn; 1 layer \
             ('levels') has adjustment or fill settings that are not applied; 1 layer \
             ('title') has editable text, shown as its stored pixels; the canvas differs \
             from Photoshop's. Saving as PSD keeps all of it (OpenRaster and PNG cannot)"
        ]
    );
    let keys: Vec<&[u8; 4]> = doc.layers[1].kept.iter().map(|b| &b.key).collect();
    assert_eq!(keys, [b"lfx2", b"lrFX"], "both blocks kept, in file order");
    let (_, none) = psd::read_with_notices(
        &rgb_file(&[Rec::pixels("p", 1, 1, [0; 4])]),
        &Limits::default(),
    )
    .expect("valid");
    assert!(none.is_empty(), "{none:?}");
}
