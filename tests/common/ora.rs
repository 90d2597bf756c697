//! Helpers for the OpenRaster tests: writing to bytes, hand-made archives.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

/// `doc` written as OpenRaster, in memory.
pub fn to_bytes(doc: &strata::model::Document) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    strata::io::ora::write(doc, &mut out).expect("write ora");
    out.into_inner()
}

/// Builds an ORA zip from (name, bytes) entries, in order; `mimetype` is stored
/// uncompressed, as the spec asks and content sniffing needs.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options = if *name == "mimetype" {
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
        } else {
            SimpleFileOptions::default()
        };
        zip.start_file(*name, options).expect("start");
        zip.write_all(data).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// A 2×2 transparent PNG.
pub fn tiny_png() -> Vec<u8> {
    strata::io::raster::png_bytes(&image::RgbaImage::new(2, 2)).expect("png")
}
