//! The site's static files, embedded at build time under fingerprinted
//! names (`site.<10 hex of SHA-256>.css`, by `build.rs`): pages link them by
//! their logical name ([`url`]), and they are served forever-cacheable
//! ([`serve`]); a name that is not the current fingerprint is a 404, so a
//! stale page never gets new bytes under an old name. Every page in the
//! site's look links its stylesheet through here, the site's own and the
//! subscription pages the campaigns worker answers.
#![forbid(unsafe_code)]
use sealpost_api::ApiResponse;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The name in the source tree (`site.css`, `app.js`).
    pub name: &'static str,
    /// The name it is served under (`site.0a1b2c3d4e.css`).
    pub served: &'static str,
    pub bytes: &'static [u8],
}

/// Every embedded file.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Every file's (name in the source tree, served name), without the bytes.
static NAMES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/names.rs"));

/// The stylesheet every page in the site's look links.
pub const STYLESHEET: &str = "site.css";

/// The icon every page in the site's look links.
pub const ICON: &str = "icon.svg";

/// How long a browser and the edge may keep a fingerprinted file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The served path of the file named `name` in the source tree.
pub fn url(name: &str) -> Option<String> {
    NAMES
        .iter()
        .find(|(logical, _)| *logical == name)
        .map(|(_, served)| format!("{}{served}", sealpost_api::pages::ASSETS_PREFIX))
}

/// The `Content-Type` of a file, by its extension.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The answer for `/assets/{served}`: the bytes with an immutable
/// lifetime, or `None` when no file has that name now.
pub fn serve(served: &str) -> Option<ApiResponse> {
    let asset = ASSETS.iter().find(|a| a.served == served)?;
    Some(
        ApiResponse {
            status: 200,
            headers: Vec::new(),
            body: asset.bytes.to_vec(),
        }
        .with_header("Content-Type", content_type(asset.name))
        .with_header("Cache-Control", IMMUTABLE)
        .with_header("X-Content-Type-Options", "nosniff"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_served_under_its_fingerprint_and_forever_cacheable() {
        let path = url("site.css").expect("site.css is embedded");
        let served = path.strip_prefix("/assets/").unwrap();
        assert!(served.starts_with("site.") && served.ends_with(".css") && served.len() == 19);
        let resp = serve(served).unwrap();
        assert_eq!(resp.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(resp.header("content-type"), Some("text/css; charset=utf-8"));
        assert!(!resp.body.is_empty());
    }

    #[test]
    fn the_plain_name_or_an_old_fingerprint_is_not_served() {
        assert!(serve("site.css").is_none());
        assert!(serve("site.0000000000.css").is_none());
    }

    #[test]
    fn every_embedded_file_is_linked_under_the_name_it_is_served_by() {
        assert_eq!(NAMES.len(), ASSETS.len());
        for a in ASSETS {
            let path = url(a.name).unwrap();
            assert_eq!(path.strip_prefix("/assets/"), Some(a.served));
        }
    }

    #[test]
    fn the_browser_build_of_edge_seal_is_embedded() {
        assert!(url("sealpost_seal.js").is_some());
        assert!(url("sealpost_seal_bg.wasm").is_some());
    }
}
