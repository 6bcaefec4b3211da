//! The live preview beside a Markdown field: once typing pauses, the body
//! is rendered by the server's own renderer (`POST /admin/preview`, the same
//! HTML the site and the emails show); an answer that arrives after a newer
//! request was made is dropped.
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::posts::edits::{Preview, PreviewInput};

use crate::client::Client;

/// How long typing must pause before the preview is rendered again.
const PREVIEW_PAUSE: Duration = Duration::from_millis(400);

/// One preview pane's state.
#[derive(Debug, Clone, Copy)]
pub struct LivePreview {
    html: RwSignal<String>,
    failed: RwSignal<Option<String>>,
    round: RwSignal<u64>,
}

impl LivePreview {
    pub fn new() -> LivePreview {
        LivePreview {
            html: RwSignal::new(String::new()),
            failed: RwSignal::new(None),
            round: RwSignal::new(0),
        }
    }

    /// Renders `body` once no newer call came within the pause.
    pub fn render(self, body: String) {
        let round = self.round.get_untracked() + 1;
        self.round.set(round);
        set_timeout(
            move || {
                if self.round.get_untracked() != round {
                    return;
                }
                if body.trim().is_empty() {
                    self.html.set(String::new());
                    return;
                }
                spawn_local(async move {
                    let asked = PreviewInput { body };
                    let answer = Client
                        .call::<Preview>("POST", "/admin/preview", Some(&asked))
                        .await;
                    if self.round.get_untracked() == round {
                        match answer {
                            Ok(p) => {
                                self.failed.set(None);
                                self.html.set(p.items.html);
                            }
                            Err(p) => self.failed.set(Some(p.describe())),
                        }
                    }
                });
            },
            PREVIEW_PAUSE,
        );
    }
}

impl Default for LivePreview {
    fn default() -> LivePreview {
        LivePreview::new()
    }
}

/// The pane; `testid` names its rendered body for the browser tests.
#[component]
pub fn PreviewPane(preview: LivePreview, testid: &'static str) -> impl IntoView {
    view! {
        <section class="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">"Preview"</h2>
            <p class="form-error" data-testid="preview-error">{move || preview.failed.get()}</p>
            <div class="body" data-testid=testid aria-live="polite" inner_html=move || preview.html.get()></div>
        </section>
    }
}
