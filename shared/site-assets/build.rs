//! Fingerprints the site's static files: every file under `assets/` (CSS,
//! JS, icons), the browser build of edge-seal (`../seal-js/pkg/web`, made
//! by `scripts/build-seal-js`) and the staff console (`../studio/pkg`, made
//! by `scripts/build-studio`) gets a name carrying the first 10 hex
//! digits of its SHA-256. Two tables are generated for `src/lib.rs`: the
//! names alone (what a page needs to link a file, so a worker that only
//! links them does not carry the bytes) and the files with their bytes.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use sha2::{Digest, Sha256};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut files = Vec::new();
    collect(&root.join("assets"), &root.join("assets"), &mut files);
    // Built by scripts: the browser build of edge-seal and the console app.
    for (dir, names, script) in [
        (
            "../seal-js/pkg/web",
            ["sealpost_seal.js", "sealpost_seal_bg.wasm"],
            "scripts/build-seal-js",
        ),
        (
            "../studio/pkg",
            ["sealpost_studio.js", "sealpost_studio_bg.wasm"],
            "scripts/build-studio",
        ),
    ] {
        let dir = root.join(dir);
        for name in names {
            let path = dir.join(name);
            if !path.is_file() {
                panic!(
                    "{} is missing: run {script} first (the site serves it)",
                    path.display()
                );
            }
            files.push((name.to_owned(), path));
        }
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!("cargo:rerun-if-changed=assets");
    files.sort();

    let mut out = String::from("&[\n");
    let mut names = String::from("&[\n");
    for (logical, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = fs::read(path).unwrap();
        let hash = Sha256::digest(&bytes);
        let hex: String = hash[..5].iter().map(|b| format!("{b:02x}")).collect();
        let (stem, ext) = logical.rsplit_once('.').unwrap_or((logical, ""));
        let served = format!("{stem}.{hex}.{ext}");
        writeln!(names, "    ({logical:?}, {served:?}),").unwrap();
        writeln!(
            out,
            "    Asset {{ name: {logical:?}, served: {served:?}, bytes: include_bytes!({:?}) }},",
            path.canonicalize().unwrap().display()
        )
        .unwrap();
    }
    out.push(']');
    names.push(']');
    let dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(dir.join("assets.rs"), out).unwrap();
    fs::write(dir.join("names.rs"), names).unwrap();
}

/// Every file under `dir`, named by its path relative to `base` with `/`
/// replaced by `-` (`js/app.js` is served as `js-app.<hash>.js`), skipping
/// tests.
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "test" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, out);
        } else {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy();
            let logical = rel.rsplit('/').next().unwrap().to_owned();
            out.push((logical, path));
        }
    }
}
