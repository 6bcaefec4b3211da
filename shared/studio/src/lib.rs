//! `sealpost-studio`: the staff console, a Leptos app that runs in the
//! browser under `/studio/`. It reads and writes only through the API, with
//! the API's own types (`sealpost_api`) and the seal's own code
//! (`sealpost_seal`), so the console and the server cannot disagree about a
//! shape. The site serves it as fingerprinted assets and a one-page shell.
#![forbid(unsafe_code)]

pub mod campaign_draft;
pub mod client;
pub mod draft;
mod hint;
pub mod net;
pub mod problem;
pub mod qr;
pub mod ui;
pub mod when;

use wasm_bindgen::prelude::wasm_bindgen;

/// Mounts the console into the shell's `#studio` element.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("studio"))
    else {
        return;
    };
    root.set_inner_html("");
    let Ok(root) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(root) else {
        return;
    };
    leptos::mount::mount_to(root, ui::App).forget();
}
