//! Greedy CTC decoding against PP-OCRv4's character list.
//!
//! Class 0 is the CTC blank, classes `1..=N` are the lines of the character list, and class
//! `N + 1` is a space (PaddleOCR appends it: `use_space_char`). Greedy decoding takes the
//! best class of each column, merges runs of the same class and drops blanks; the
//! confidence is the mean probability of the columns kept, 0 when none is.

/// Splits the character list file (one character a line, `\n` line ends).
pub fn parse_keys(text: &str) -> Result<Vec<char>, String> {
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => keys.push(c),
            _ => return Err(format!("line {} is not one character: {line:?}", i + 1)),
        }
    }
    Ok(keys)
}

/// Decodes `steps × classes` probabilities (row-major) into text and mean confidence.
pub fn decode(probs: &[f32], classes: usize, keys: &[char]) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0f64, 0usize);
    let mut previous = None;
    for row in probs.chunks_exact(classes) {
        // First maximum wins ties, as numpy's argmax.
        let (best, p) = row
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bp), (i, &p)| {
                if p > bp { (i, p) } else { (bi, bp) }
            });
        if best != 0 && previous != Some(best) {
            text.push(keys.get(best - 1).copied().unwrap_or(' '));
            sum += f64::from(p);
            kept += 1;
        }
        previous = Some(best);
    }
    let confidence = if kept == 0 {
        0.0
    } else {
        (sum / kept as f64) as f32
    };
    (text, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_repeats_drops_blanks_and_appends_space() {
        let keys = ['a', 'b'];
        // Classes: blank, a, b, space. Columns: a a blank a b space b.
        let best = [1, 1, 0, 1, 2, 3, 2];
        let mut probs = Vec::new();
        for &b in &best {
            let mut row = [0.1f32; 4];
            row[b] = 0.7;
            probs.extend_from_slice(&row);
        }
        let (text, conf) = decode(&probs, 4, &keys);
        assert_eq!(text, "aab b");
        assert!((conf - 0.7).abs() < 1e-6);
        assert_eq!(
            decode(&[0.9, 0.1, 0.0, 0.0], 4, &keys),
            (String::new(), 0.0)
        );
    }

    #[test]
    fn parse_keys_rejects_long_lines() {
        assert_eq!(parse_keys("a\nb\n"), Ok(vec!['a', 'b']));
        assert!(parse_keys("a\nbc\n").is_err());
    }
}
