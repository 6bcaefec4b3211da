//! The post editor: a tab per language (title, slug suggested from the
//! title until edited, excerpt, Markdown body with a live preview the
//! server renders with its own renderer), tags, and the post's workflow —
//! save, publish, schedule in the editor's own time zone (stored in UTC),
//! unpublish, delete. A draft saves itself once typing pauses (a
//! published or scheduled post only when asked, since its save is public).
//! A save made stale by someone else's shows the conflict and lets the
//! editor take their version or keep their own text.
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::posts::AdminPost;
use sealpost_api::posts::edits::{ActionInput, ScheduleInput};
use sealpost_api::slug;
use wasm_bindgen::JsValue;

use super::Section;
use super::parts::{FormError, LangTabs};
use super::preview::{LivePreview, PreviewPane};
use crate::client::Client;
use crate::draft::Draft;
use crate::problem::Problem;
use crate::when::{local_to_utc, time_zone, utc_to_local};

/// How long typing must pause before a draft saves itself.
const AUTOSAVE_PAUSE: Duration = Duration::from_secs(3);

#[component]
pub fn Editor(section: RwSignal<Section>, id: Option<String>) -> impl IntoView {
    let post = RwSignal::new(None::<AdminPost>);
    let draft = RwSignal::new(Draft::default());
    let saved = RwSignal::new(Draft::default());
    let tab = RwSignal::new("en");
    // Whether each language's slug was typed (else it follows the title).
    let slug_typed = RwSignal::new([false, false]);
    let preview = LivePreview::new();
    let problem = RwSignal::new(None::<Problem>);
    let message = RwSignal::new(String::new());
    let conflict = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let schedule_at = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let loaded = RwSignal::new(id.is_none());
    let autosave_round = RwSignal::new(0u64);

    let lang_index = |lang: &str| usize::from(lang == "vi");
    let show = move |p: AdminPost, keep_text: bool| {
        let theirs = Draft::from_post(&p);
        if !keep_text {
            draft.set(theirs.clone());
            slug_typed.set([true, true]);
        }
        saved.set(theirs);
        schedule_at.set(
            p.publish_at
                .as_deref()
                .map(utc_to_local)
                .unwrap_or_default(),
        );
        post.set(Some(p));
    };
    let render_preview = move || {
        preview.render(draft.with_untracked(|d| d.lang(tab.get_untracked()).body.clone()));
    };
    if let Some(id) = id.clone() {
        spawn_local(async move {
            match Client.get::<AdminPost>(&format!("/admin/posts/{id}")).await {
                Ok(p) => {
                    show(p.items, false);
                    loaded.set(true);
                    render_preview();
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    }

    // Saves what changed, saying `note`; then `then` (an action on the saved
    // post and what to say once done), if any.
    let save_then = move |then: Option<(&'static str, &'static str)>, note: &'static str| {
        busy.set(true);
        // A save now makes a pending autosave moot.
        autosave_round.update(|r| *r += 1);
        problem.set(None);
        message.set(String::new());
        spawn_local(async move {
            let current = post.get_untracked();
            let now = draft.get_untracked();
            let answer = match &current {
                None => Some(
                    Client
                        .call::<AdminPost>("POST", "/admin/posts", Some(&now.create()))
                        .await,
                ),
                Some(p) => match now.patch(&saved.get_untracked(), p.version) {
                    Some(patch) => Some(
                        Client
                            .call::<AdminPost>(
                                "PATCH",
                                &format!("/admin/posts/{}", p.id),
                                Some(&patch),
                            )
                            .await,
                    ),
                    None => None,
                },
            };
            let saved_post = match answer {
                Some(Ok(p)) => {
                    if current.is_none() {
                        // A new post has its own address from now on.
                        let path = Section::Edit(Some(p.items.id.clone())).path();
                        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
                        }
                    }
                    show(p.items.clone(), true);
                    message.set(note.into());
                    Some(p.items)
                }
                Some(Err(p)) => {
                    conflict.set(p.code() == Some("UPDATE_CONFLICT"));
                    problem.set(Some(p));
                    None
                }
                None => current,
            };
            if let (Some(p), Some((action, done))) = (saved_post, then) {
                let path = format!("/admin/posts/{}/{action}", p.id);
                let result = if action == "schedule" {
                    match local_to_utc(&schedule_at.get_untracked()) {
                        Some(at) => {
                            let body = ScheduleInput {
                                publish_at: at,
                                version: Some(p.version),
                            };
                            Client.call::<AdminPost>("POST", &path, Some(&body)).await
                        }
                        None => Err(Problem::Incomplete(
                            "Pick the date and time to publish at".into(),
                        )),
                    }
                } else {
                    let body = ActionInput {
                        version: Some(p.version),
                    };
                    Client.call::<AdminPost>("POST", &path, Some(&body)).await
                };
                match result {
                    Ok(p) => {
                        show(p.items, true);
                        message.set(done.into());
                    }
                    Err(p) => {
                        conflict.set(p.code() == Some("UPDATE_CONFLICT"));
                        problem.set(Some(p));
                    }
                }
            }
            busy.set(false);
        });
    };
    // After each edit: once typing has paused, a draft (or a new post with
    // a language complete enough to create it) saves itself, unless a save
    // is under way or a conflict waits for the editor's choice.
    let autosave = move || {
        let round = autosave_round.get_untracked() + 1;
        autosave_round.set(round);
        set_timeout(
            move || {
                let quiet = autosave_round.get_untracked() == round
                    && !busy.get_untracked()
                    && !conflict.get_untracked();
                let due = post.with_untracked(|p| match p {
                    Some(p) => {
                        p.status == "draft"
                            && draft
                                .with_untracked(|d| d.patch(&saved.get_untracked(), p.version))
                                .is_some()
                    }
                    None => draft.with_untracked(Draft::can_create),
                });
                if quiet && due {
                    save_then(None, "Draft saved automatically.");
                }
            },
            AUTOSAVE_PAUSE,
        );
    };
    let reload = move |keep_text: bool| {
        let Some(id) = post.get_untracked().map(|p| p.id) else {
            return;
        };
        spawn_local(async move {
            match Client.get::<AdminPost>(&format!("/admin/posts/{id}")).await {
                Ok(p) => {
                    show(p.items, keep_text);
                    conflict.set(false);
                    problem.set(None);
                    message.set(if keep_text {
                        "Your text is kept on top of their version: save to replace it.".into()
                    } else {
                        "Their version is loaded.".into()
                    });
                    render_preview();
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    let delete = move |_| {
        let Some(id) = post.get_untracked().map(|p| p.id) else {
            return;
        };
        spawn_local(async move {
            match Client
                .call::<serde_json::Value>("DELETE", &format!("/admin/posts/{id}"), None::<&()>)
                .await
            {
                Ok(_) => section.set(Section::Posts),
                Err(p) => problem.set(Some(p)),
            }
        });
    };

    let field = move |get: fn(&crate::draft::Fields) -> &String| {
        move || draft.with(|d| get(d.lang(tab.get())).clone())
    };
    let status = move || {
        post.with(|p| {
            p.as_ref()
                .map_or_else(|| "new".to_owned(), |p| p.status.clone())
        })
    };

    view! {
        <p><button type="button" class="link" data-testid="back-to-posts" on:click=move |_| section.set(Section::Posts)>"← All posts"</button></p>
        <h1>{move || if post.with(Option::is_some) { "Edit post" } else { "New post" }}</h1>
        <p class="meta">"Status: " <span class="status" data-testid="editor-status">{status}</span>
            {move || post.get().and_then(|p| p.publish_at).map(|at| view! {
                " · publishes at " <time data-testid="editor-publish-at" datetime=at.clone()>{utc_to_local(&at).replace('T', " ")}</time>
            })}
        </p>
        <Show when=move || loaded.get() fallback=|| view! { <p role="status">"Loading the post…"</p> }>
        <LangTabs tab switched=move |()| render_preview()/>
        <div class="editor" id="lang-panel" role="tabpanel" aria-labelledby=move || format!("tab-{}", tab.get()) lang=move || tab.get()>
            <div class="fields">
                <label for="post-title">"Title"</label>
                <input id="post-title" name="title" data-testid="post-title-input" prop:value=field(|f| &f.title)
                    on:input=move |ev| {
                        let title = event_target_value(&ev);
                        let lang = tab.get_untracked();
                        let typed = slug_typed.get_untracked()[lang_index(lang)];
                        draft.update(|d| {
                            let f = d.lang_mut(lang);
                            if !typed { f.slug = slug::suggest(&title); }
                            f.title = title;
                        });
                        autosave();
                    }/>
                <label for="post-slug">"Slug"</label>
                <input id="post-slug" name="slug" data-testid="post-slug-input" prop:value=field(|f| &f.slug)
                    on:input=move |ev| {
                        let lang = tab.get_untracked();
                        slug_typed.update(|t| t[lang_index(lang)] = true);
                        draft.update(|d| d.lang_mut(lang).slug = event_target_value(&ev));
                        autosave();
                    }/>
                <label for="post-excerpt">"Excerpt"</label>
                <textarea id="post-excerpt" name="excerpt" rows="2" prop:value=field(|f| &f.excerpt)
                    on:input=move |ev| {
                        draft.update(|d| d.lang_mut(tab.get_untracked()).excerpt = event_target_value(&ev));
                        autosave();
                    }></textarea>
                <label for="post-body">"Body (Markdown)"</label>
                <textarea id="post-body" name="body" rows="16" data-testid="post-body-input" prop:value=field(|f| &f.body)
                    on:input=move |ev| {
                        draft.update(|d| d.lang_mut(tab.get_untracked()).body = event_target_value(&ev));
                        render_preview();
                        autosave();
                    }></textarea>
            </div>
            <PreviewPane preview testid="post-preview"/>
        </div>
        <label for="post-tags">"Tags (separated by commas)"</label>
        <input id="post-tags" name="tags" data-testid="post-tags-input" prop:value=move || draft.with(|d| d.tags.clone())
            on:input=move |ev| { draft.update(|d| d.tags = event_target_value(&ev)); autosave(); }/>
        <div class="actions">
            <button type="button" data-testid="save" prop:disabled=move || busy.get() on:click=move |_| save_then(None, "Saved.")>"Save draft"</button>
            <Show when=move || status() != "published">
                <button type="button" data-testid="publish" prop:disabled=move || busy.get() on:click=move |_| save_then(Some(("publish", "Published.")), "Saved.")>"Publish now"</button>
            </Show>
            <Show when=move || matches!(status().as_str(), "published" | "scheduled")>
                <button type="button" data-testid="unpublish" prop:disabled=move || busy.get() on:click=move |_| save_then(Some(("unpublish", "Back to draft.")), "Saved.")>"Unpublish"</button>
            </Show>
        </div>
        <fieldset class="schedule">
            <legend>"Schedule"</legend>
            <label for="post-publish-at">{move || format!("Publish at ({})", time_zone())}</label>
            <input id="post-publish-at" type="datetime-local" data-testid="publish-at-input" bind:value=schedule_at/>
            <button type="button" data-testid="schedule" prop:disabled=move || busy.get() on:click=move |_| save_then(Some(("schedule", "Scheduled.")), "Saved.")>"Schedule"</button>
        </fieldset>
        <p class="saved" data-testid="editor-message" role="status">{move || message.get()}</p>
        <FormError problem/>
        <Show when=move || conflict.get()>
            <div class="conflict" data-testid="conflict" role="alert">
                <p>"Someone saved this post after you opened it. Take their version, or keep your text and save it over theirs."</p>
                <button type="button" data-testid="conflict-reload" on:click=move |_| reload(false)>"Load their version"</button>
                <button type="button" data-testid="conflict-keep" on:click=move |_| reload(true)>"Keep my text"</button>
            </div>
        </Show>
        <Show when=move || post.with(|p| p.as_ref().is_some_and(|p| p.status != "deleted"))>
            <div class="danger">
                <Show when=move || confirm_delete.get() fallback=move || view! {
                    <button type="button" class="quiet" data-testid="delete" on:click=move |_| confirm_delete.set(true)>"Delete post…"</button>
                }>
                    <button type="button" class="warn" data-testid="delete-confirm" on:click=delete>"Delete it"</button>
                    <button type="button" class="quiet" on:click=move |_| confirm_delete.set(false)>"Keep it"</button>
                </Show>
            </div>
        </Show>
        </Show>
    }
}
