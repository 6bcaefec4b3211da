//! The staff console's one page: a shell that names the console's assets
//! (the Leptos app built from `sealpost-studio`) and loads it. Every path
//! below `/studio/` answers the same shell; the app routes within it. The
//! page carries nothing private (every action goes through the API with a
//! staff token and a second factor), so it is cached like any other page;
//! it asks not to be indexed.
use askama::Template;
use sealpost_api::{ApiResponse, Failure};
use serde_json::json;

use crate::assets;
use crate::{render, seo};

/// The console's stylesheet, boot script and app (logical asset names).
pub const STUDIO_CSS: &str = "studio.css";
pub const BOOT_JS: &str = "studio-boot.js";
pub const APP_JS: &str = "sealpost_studio.js";
pub const APP_WASM: &str = "sealpost_studio_bg.wasm";

/// Keeps the console out of search engines (the page says so too).
pub const ROBOTS: &str = "noindex, nofollow";

#[derive(Template, Debug)]
#[template(path = "studio.html")]
struct Shell {
    site_name: String,
    css: String,
    studio_css: String,
    icon: String,
    boot_js: String,
    config_json: String,
}

/// The shell for a site called `site_name`.
pub fn shell(site_name: &str) -> Result<ApiResponse, Failure> {
    let url = |name: &str| {
        assets::url(name).ok_or_else(|| Failure::Config(format!("the asset {name} is not built")))
    };
    let config = json!({
        "appJs": url(APP_JS)?,
        "appWasm": url(APP_WASM)?,
        "siteName": site_name,
    });
    let page = Shell {
        site_name: site_name.to_owned(),
        css: url(assets::STYLESHEET)?,
        studio_css: url(STUDIO_CSS)?,
        icon: url(assets::ICON)?,
        boot_js: url(BOOT_JS)?,
        config_json: seo::script_json(&config),
    };
    Ok(ApiResponse::html(200, render::html(&page)?).with_header("X-Robots-Tag", ROBOTS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_names_the_console_app_and_asks_not_to_be_indexed() {
        let resp = shell("Sealpost <Dev>").unwrap();
        let body = String::from_utf8(resp.body.clone()).unwrap();
        assert_eq!(resp.header("x-robots-tag"), Some(ROBOTS));
        assert!(body.contains(r#"<meta name="robots" content="noindex, nofollow">"#));
        assert!(body.contains(&assets::url(APP_WASM).unwrap()));
        assert!(
            body.contains("Sealpost &#60;Dev&#62; Studio")
                || body.contains("Sealpost &lt;Dev&gt; Studio")
        );
        assert!(!body.contains("<Dev>"));
    }
}
