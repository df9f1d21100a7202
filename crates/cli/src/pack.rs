//! Loading the rule pack: the one embedded in the binary, or a folder given with `--rules`.

use std::path::Path;

use include_dir::{Dir, include_dir};
use subsidy_rules::Pack;

use crate::{Exit, Failure};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../rules");

/// The embedded pack's files (path, text), in path order.
pub fn embedded_files() -> Vec<(String, String)> {
    fn walk(d: &Dir<'_>, out: &mut Vec<(String, String)>) {
        for f in d.files() {
            if f.path().extension().is_some_and(|x| x == "toml") {
                out.push((
                    f.path().to_string_lossy().replace('\\', "/"),
                    f.contents_utf8().unwrap_or("").to_string(),
                ));
            }
        }
        for sub in d.dirs() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&EMBEDDED, &mut out);
    out.sort();
    out
}

/// Loads a pack from `dir` (or the embedded one), printing diagnostics; exit code 3 when invalid.
pub fn load(dir: Option<&Path>) -> Result<Pack, Failure> {
    let files = match dir {
        Some(d) => subsidy_rules::pack::read_dir(d).map_err(|e| Failure {
            code: Exit::Rules.code(),
            error: anyhow::anyhow!("reading rules from {}: {e}", d.display()),
        })?,
        None => embedded_files(),
    };
    load_files(
        &files,
        dir.map_or_else(|| "<embedded>".to_string(), |d| d.display().to_string())
            .as_str(),
    )
}

/// Loads a pack from its files.
pub fn load_files(files: &[(String, String)], label: &str) -> Result<Pack, Failure> {
    subsidy_rules::pack::load(files).map_err(|diags| {
        for d in &diags {
            eprintln!("{label}/{d}");
        }
        Failure {
            code: Exit::Rules.code(),
            error: anyhow::anyhow!("{} error(s) in the rule pack {label}", diags.len()),
        }
    })
}
