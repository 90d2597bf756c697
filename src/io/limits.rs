//! Size limits applied before any pixel buffer is allocated, so a hostile or broken file
//! (a decompression bomb, a header claiming 100000×100000) is refused with a clear error
//! instead of exhausting memory.

/// Bounds on what a reader may allocate for one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest side of the canvas or of any layer, in pixels.
    pub max_side: u32,
    /// Most pixels in the canvas or in any single layer.
    pub max_pixels: u64,
    /// Most bytes of RGBA pixels across all layers of a document together.
    pub max_total_bytes: u64,
    /// Largest file we read into memory at all.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    /// 30000 px sides (the PSD maximum), 256 Mpx per image (1 GiB of RGBA),
    /// 4 GiB of layer pixels and 2 GiB files.
    fn default() -> Self {
        Self {
            max_side: 30_000,
            max_pixels: 1 << 28,
            max_total_bytes: 1 << 32,
            max_file_bytes: 1 << 31,
        }
    }
}

/// Why a size was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("image has no pixels ({width}×{height})")]
    Empty { width: u32, height: u32 },
    #[error("{what} is {width}×{height} px, beyond the limit of {max_side} px per side")]
    SideTooLong {
        what: &'static str,
        width: u64,
        height: u64,
        max_side: u32,
    },
    #[error("{what} is {width}×{height} px, beyond the limit of {max_pixels} pixels")]
    TooManyPixels {
        what: &'static str,
        width: u64,
        height: u64,
        max_pixels: u64,
    },
    #[error("layers need {bytes} bytes of pixels together, beyond the limit of {max} bytes")]
    TotalTooLarge { bytes: u64, max: u64 },
    #[error("file is {bytes} bytes, beyond the limit of {max} bytes")]
    FileTooLarge { bytes: u64, max: u64 },
}

impl Limits {
    /// Limits for reading within a memory budget of `bytes`: layer pixels together may use
    /// all of it, one image at most all of it, and the file (which is read whole, next to
    /// the pixels decoded from it) a quarter. Readers hold a layer's planes and its RGBA
    /// buffer at once, so peak memory stays within about 2.25 × `bytes`.
    pub fn within_memory(bytes: u64) -> Self {
        let default = Self::default();
        Self {
            max_side: default.max_side,
            max_pixels: default.max_pixels.min(bytes / 4),
            max_total_bytes: default.max_total_bytes.min(bytes),
            max_file_bytes: default.max_file_bytes.min(bytes / 4),
        }
    }

    /// Checks a canvas size; zero-sized canvases are refused.
    pub fn check_canvas(&self, width: u32, height: u32) -> Result<(), LimitError> {
        if width == 0 || height == 0 {
            return Err(LimitError::Empty { width, height });
        }
        self.check_size("canvas", u64::from(width), u64::from(height))
    }

    /// Checks a layer or image of `width`×`height` (zero is allowed: empty layers exist).
    pub fn check_size(
        &self,
        what: &'static str,
        width: u64,
        height: u64,
    ) -> Result<(), LimitError> {
        let max_side = u64::from(self.max_side);
        if width > max_side || height > max_side {
            return Err(LimitError::SideTooLong {
                what,
                width,
                height,
                max_side: self.max_side,
            });
        }
        if width * height > self.max_pixels {
            return Err(LimitError::TooManyPixels {
                what,
                width,
                height,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Checks the running total of RGBA bytes a reader is about to hold.
    pub fn check_total(&self, bytes: u64) -> Result<(), LimitError> {
        if bytes > self.max_total_bytes {
            return Err(LimitError::TotalTooLarge {
                bytes,
                max: self.max_total_bytes,
            });
        }
        Ok(())
    }

    /// Checks a file length before reading it.
    pub fn check_file(&self, bytes: u64) -> Result<(), LimitError> {
        if bytes > self.max_file_bytes {
            return Err(LimitError::FileTooLarge {
                bytes,
                max: self.max_file_bytes,
            });
        }
        Ok(())
    }
}
