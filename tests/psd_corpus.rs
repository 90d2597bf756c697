//! The ag-psd test corpus (`../shared/fixtures/psd-corpus/`, MIT, kept out of the
//! repository): every file opens or is refused naming an unsupported feature, nothing
//! crashes, and our flatten matches the composite Photoshop stored in at least as many
//! files as it did when the floor was last raised. Prints one line per file.
//!
//! Skipped with a message where the folder is missing: the corpus lives beside the checkout
//! on the project's machines, not in the repository, so a fresh clone (and CI) may lack it.
//! `strata bench psd-open` prints the same measurement as a table, beside psd-tools.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use strata::io::{self, psd};
use strata::model::composite;
use strata::model::pixels::mean_premultiplied_difference;

/// Files whose flatten is within 2/255 (mean, premultiplied) of their real stored
/// composite, at least. Raise it as the reader improves; never lower it.
const HIT_FLOOR: usize = 117;

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/psd-corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!("skipping: the PSD corpus is missing ({})", dir.display());
    None
}

#[test]
fn corpus_files_open_or_are_refused_by_feature_and_flatten_like_photoshop() {
    let Some(dir) = corpus_dir() else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("list the corpus")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            ext.eq_ignore_ascii_case("psd") || ext.eq_ignore_ascii_case("psb")
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 100,
        "only {} files in the corpus",
        paths.len()
    );
    let limits = io::Limits::default();
    let (mut crashed, mut unclear, mut hits, mut with_composite) = (vec![], vec![], 0, 0);
    for path in &paths {
        let name = path.file_name().expect("file name").to_string_lossy();
        let bytes = std::fs::read(path).expect("read a corpus file");
        let opened = catch_unwind(AssertUnwindSafe(|| {
            io::read_bytes(&bytes, "Background", &limits)
        }));
        let doc = match opened {
            Err(_) => {
                crashed.push(name.into_owned());
                continue;
            }
            Ok(Err(err)) => {
                // The corpus holds valid files only: a refusal must name what we lack.
                let message = err.to_string();
                println!("{name}: refused: {message}");
                if !message.contains("unsupported") {
                    unclear.push(format!("{name}: {message}"));
                }
                continue;
            }
            Ok(Ok(doc)) => doc,
        };
        let real = psd::stores_real_composite(&bytes, &limits).expect("the header was read");
        let stored = real.then(|| psd::read_composite(&bytes, &limits));
        match stored {
            Some(Ok(stored)) => {
                with_composite += 1;
                let difference = mean_premultiplied_difference(&composite(&doc), &stored);
                let hit = difference.is_some_and(|d| d <= 2.0);
                hits += usize::from(hit);
                println!("{name}: opened, flatten differs by {difference:?}/255");
            }
            Some(Err(err)) => panic!("{name}: opens, but its stored composite does not: {err}"),
            None => println!("{name}: opened (no real stored composite)"),
        }
    }
    println!(
        "{} files, {} crashed; {hits} of {with_composite} flatten within 2/255",
        paths.len(),
        crashed.len()
    );
    assert!(crashed.is_empty(), "crashed on {crashed:?}");
    assert!(
        unclear.is_empty(),
        "refused without naming a feature: {unclear:#?}"
    );
    assert!(
        hits >= HIT_FLOOR,
        "only {hits} files flatten like their stored composite, the floor is {HIT_FLOOR}"
    );
}
