//! PackBits, the run-length code PSD calls "RLE" (compression 1), one row at a time.
//!
//! A control byte `n` (as `i8`) in `0..=127` copies the next `n + 1` bytes literally,
//! `-127..=-1` repeats the next byte `1 − n` times, and `-128` does nothing. Runs and literal
//! stretches are therefore at most 128 bytes long, and a row never grows beyond
//! `w + ceil(w / 128)` bytes, which keeps every row count inside the `u16` that PSD stores
//! for rows up to 30000 px wide.
//!
//! PSD compresses each row separately (a run never crosses a row end), so the decoder
//! works on one row and insists that the row comes out exactly as long as the layer is wide.

/// Longest run or literal stretch one control byte can describe.
const MAX_SPAN: usize = 128;

/// Why a PackBits row does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackBitsError {
    #[error("data ends inside a {kind} at byte {at} of {len}")]
    SourceEnds {
        kind: &'static str,
        at: usize,
        len: usize,
    },
    #[error("a {kind} of {span} bytes at pixel {at} runs past the row end ({width} px)")]
    Overrun {
        kind: &'static str,
        span: usize,
        at: usize,
        width: usize,
    },
    #[error("decodes to {got} bytes, expected {width}")]
    Short { got: usize, width: usize },
}

/// The most bytes [`encode_row`] produces for a row of `width` bytes.
pub const fn worst_case_len(width: usize) -> usize {
    width + width.div_ceil(MAX_SPAN)
}

/// Appends the PackBits code of `row` to `out`. Runs of three or more equal bytes become
/// repeat codes; shorter repeats stay inside literal stretches, where they cost nothing
/// extra (a two-byte repeat code would split a literal and cost a control byte).
pub fn encode_row(row: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < row.len() {
        let run = run_length(&row[i..]);
        if run >= 3 {
            // 1 − run as i8, stored as its two's-complement byte: 3 → 0xFE, 128 → 0x81.
            out.push((257 - run) as u8);
            out.push(row[i]);
            i += run;
        } else {
            let start = i;
            while i < row.len() && i - start < MAX_SPAN && run_length(&row[i..]) < 3 {
                i += 1;
            }
            out.push((i - start - 1) as u8);
            out.extend_from_slice(&row[start..i]);
        }
    }
}

/// Encodes a plane row by row: returns the big-endian byte count of every row (`u16`, or
/// `u32` for PSB when `large`) and the concatenated rows. Without `large`, `width` must be
/// at most 30000 so that every count fits. The writer codes channels row by row from their
/// pixels instead ([`super::rows`]); this whole-plane form is the reference its tests hold
/// it to.
#[cfg(test)]
pub(crate) fn encode_plane(plane: &[u8], width: usize, large: bool) -> (Vec<u8>, Vec<u8>) {
    let rows = plane.len().checked_div(width).unwrap_or(0);
    let mut counts = Vec::with_capacity(rows * if large { 4 } else { 2 });
    let mut code = Vec::with_capacity(plane.len() / 2);
    for row in plane.chunks_exact(width.max(1)).take(rows) {
        let before = code.len();
        encode_row(row, &mut code);
        let count = code.len() - before;
        if large {
            counts.extend_from_slice(&(count as u32).to_be_bytes());
        } else {
            counts.extend_from_slice(&(count as u16).to_be_bytes());
        }
    }
    (counts, code)
}

/// Number of bytes equal to `bytes[0]` at the start of `bytes`, at most 128.
fn run_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(&first) => bytes
            .iter()
            .take(MAX_SPAN)
            .take_while(|&&b| b == first)
            .count(),
        None => 0,
    }
}

/// Decodes one PackBits row from `src` into `dst`, which must come out exactly full.
/// Never reads or writes out of bounds, whatever `src` holds.
pub fn decode_row(src: &[u8], dst: &mut [u8]) -> Result<(), PackBitsError> {
    let (mut i, mut o) = (0usize, 0usize);
    while let Some(&control) = src.get(i) {
        i += 1;
        let control = control as i8;
        if control == -128 {
            continue; // a no-op by definition
        }
        let (kind, span) = if control >= 0 {
            ("literal", control as usize + 1)
        } else {
            ("run", (1 - isize::from(control)) as usize)
        };
        let Some(out) = dst.get_mut(o..o + span) else {
            return Err(PackBitsError::Overrun {
                kind,
                span,
                at: o,
                width: dst.len(),
            });
        };
        if control >= 0 {
            let Some(literal) = src.get(i..i + span) else {
                return Err(PackBitsError::SourceEnds {
                    kind,
                    at: i,
                    len: src.len(),
                });
            };
            out.copy_from_slice(literal);
            i += span;
        } else {
            let Some(&value) = src.get(i) else {
                return Err(PackBitsError::SourceEnds {
                    kind,
                    at: i,
                    len: src.len(),
                });
            };
            out.fill(value);
            i += 1;
        }
        o += span;
    }
    if o == dst.len() {
        Ok(())
    } else {
        Err(PackBitsError::Short {
            got: o,
            width: dst.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(row: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_row(row, &mut out);
        out
    }

    #[test]
    fn known_codes() {
        // Apple's Technical Note TN1023 example.
        let row = [
            0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0xAA, 0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0x22,
            0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
        ];
        let code = encode(&row);
        assert_eq!(
            code,
            [
                0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7,
                0xAA
            ]
        );
        let mut back = [0u8; 24];
        decode_row(&code, &mut back).expect("decodes");
        assert_eq!(back, row);
        assert!(encode(&[]).is_empty());
    }

    #[test]
    fn spans_split_at_128() {
        assert_eq!(encode(&[7; 300]), [0x81, 7, 0x81, 7, 0xD5, 7]);
        let literal: Vec<u8> = (0..=255).collect();
        let code = encode(&literal);
        assert_eq!((code[0], code[129], code.len()), (127, 127, 258));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut row = [0u8; 4];
        let overrun = decode_row(&[0xFB, 1], &mut row).expect_err("run of 6 into 4");
        assert!(
            matches!(overrun, PackBitsError::Overrun { span: 6, .. }),
            "{overrun}"
        );
        let cut = decode_row(&[0x03, 1, 2], &mut row).expect_err("literal cut short");
        assert!(matches!(cut, PackBitsError::SourceEnds { .. }), "{cut}");
        let short = decode_row(&[0x00, 9, 0x80], &mut row).expect_err("one byte of four");
        assert_eq!(short, PackBitsError::Short { got: 1, width: 4 });
        assert!(
            decode_row(&[0xFF], &mut row).is_err(),
            "run without its value"
        );
        assert!(
            decode_row(&[0xFD, 5, 0x80], &mut row[..0]).is_err(),
            "anything into zero width"
        );
        decode_row(&[0xFD, 5, 0x80], &mut row).expect("trailing no-op is fine");
        assert_eq!(row, [5; 4]);
    }

    /// Rows made of runs and noise, so both code kinds and their 128-byte limits occur.
    fn rows() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            (any::<u8>(), 1usize..300).prop_map(|(b, n)| vec![b; n]),
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(0u8..2, 0..300),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn round_trips_within_the_worst_case(row in rows()) {
            let code = encode(&row);
            prop_assert!(code.len() <= worst_case_len(row.len()), "{} > bound", code.len());
            let mut back = vec![0u8; row.len()];
            prop_assert_eq!(decode_row(&code, &mut back), Ok(()));
            prop_assert_eq!(back, row);
        }

        #[test]
        fn decoding_garbage_never_panics(src in proptest::collection::vec(any::<u8>(), 0..64),
                                         width in 0usize..200) {
            let mut dst = vec![0u8; width];
            let _ = decode_row(&src, &mut dst);
        }
    }
}
