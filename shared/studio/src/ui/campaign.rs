//! One campaign: composing it (a tab per language, subject and Markdown
//! body with the server's live preview), a test to one address, scheduling
//! in the admin's own time zone, sending, and then its delivery watched
//! live from the ledger's counts until it ends; a cancel stops it at any
//! point before it is sent. Texts and schedule can change only while it is
//! a draft or scheduled, as the API rules.
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::campaigns::{Campaign, CampaignPatch, CampaignStatus, TestSendInput};
use wasm_bindgen::JsValue;

use super::Section;
use super::parts::{FormError, LangTabs, lang_name};
use super::preview::{LivePreview, PreviewPane};
use crate::campaign_draft::CampaignDraft;
use crate::client::Client;
use crate::draft::LANGS;
use crate::problem::Problem;
use crate::when::{local_to_utc, time_zone, utc_to_local};

/// How often a delivering campaign's counts are read again.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// What a button asks of the API after the texts are saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Nothing,
    Schedule,
    Unschedule,
    Send,
    Test,
}

#[component]
pub fn CampaignScreen(section: RwSignal<Section>, id: Option<String>) -> impl IntoView {
    let campaign = RwSignal::new(None::<Campaign>);
    let draft = RwSignal::new(CampaignDraft::default());
    let saved = RwSignal::new(CampaignDraft::default());
    let tab = RwSignal::new("en");
    let preview = LivePreview::new();
    let problem = RwSignal::new(None::<Problem>);
    let message = RwSignal::new(String::new());
    let schedule_at = RwSignal::new(String::new());
    let test_to = RwSignal::new(String::new());
    let test_locale = RwSignal::new("en".to_owned());
    let confirm = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let loaded = RwSignal::new(id.is_none());

    let status = move || campaign.with(|c| c.as_ref().map(|c| c.status));
    let editable = move || status().is_none_or(CampaignStatus::is_editable);
    let show = move |c: Campaign, texts: bool| {
        if texts {
            let d = CampaignDraft::from_campaign(&c);
            draft.set(d.clone());
            saved.set(d);
        }
        schedule_at.set(
            c.scheduled_at
                .as_deref()
                .map(utc_to_local)
                .unwrap_or_default(),
        );
        campaign.set(Some(c));
    };
    let render_preview = move || {
        preview.render(draft.with_untracked(|d| d.lang(tab.get_untracked()).body.clone()));
    };
    let read = move |id: String, texts: bool| {
        spawn_local(async move {
            match Client
                .get::<Campaign>(&format!("/admin/campaigns/{id}"))
                .await
            {
                Ok(c) => {
                    show(c.items, texts);
                    loaded.set(true);
                    if texts {
                        render_preview();
                    }
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    if let Some(id) = id {
        read(id, true);
    }
    // While it delivers, the counts are read again every two seconds.
    if let Ok(every) = set_interval_with_handle(
        move || {
            let delivering = campaign
                .try_with_untracked(|c| {
                    c.as_ref()
                        .filter(|c| c.status.is_delivering())
                        .map(|c| c.id.clone())
                })
                .flatten();
            if let Some(id) = delivering {
                read(id, false);
            }
        },
        PROGRESS_EVERY,
    ) {
        on_cleanup(move || every.clear());
    }

    // Saves the texts that changed (creating the campaign first if new),
    // then does `then`.
    let act = move |then: Then, done: &'static str| {
        busy.set(true);
        confirm.set(None);
        problem.set(None);
        message.set(String::new());
        spawn_local(async move {
            let result = async {
                let at = match then {
                    Then::Schedule => {
                        Some(local_to_utc(&schedule_at.get_untracked()).ok_or_else(|| {
                            Problem::Incomplete("Pick the date and time to send at".into())
                        })?)
                    }
                    _ => None,
                };
                let now = draft.get_untracked();
                let fresh = campaign.with_untracked(Option::is_none);
                let mut current = match campaign.get_untracked() {
                    None => {
                        let created = Client
                            .call::<Campaign>(
                                "POST",
                                "/admin/campaigns",
                                Some(&now.create(at.clone())),
                            )
                            .await?
                            .items;
                        let path = Section::Campaign(Some(created.id.clone())).path();
                        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                            // A new campaign has its own address from now on.
                            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
                        }
                        created
                    }
                    Some(c) => match (c.status.is_editable(), now.patch(&saved.get_untracked())) {
                        (true, Some(patch)) => {
                            Client
                                .call::<Campaign>(
                                    "PATCH",
                                    &format!("/admin/campaigns/{}", c.id),
                                    Some(&patch),
                                )
                                .await?
                                .items
                        }
                        _ => c,
                    },
                };
                saved.set(now);
                let base = format!("/admin/campaigns/{}", current.id);
                current = match then {
                    Then::Nothing | Then::Test => current,
                    // A campaign created just now has its schedule already.
                    Then::Schedule if fresh => current,
                    Then::Unschedule if current.scheduled_at.is_none() => current,
                    Then::Schedule | Then::Unschedule => {
                        let patch = CampaignPatch {
                            scheduled_at: Some(at),
                            ..CampaignPatch::default()
                        };
                        Client
                            .call::<Campaign>("PATCH", &base, Some(&patch))
                            .await?
                            .items
                    }
                    Then::Send => {
                        Client
                            .call::<Campaign>("POST", &format!("{base}/send"), None::<&()>)
                            .await?
                            .items
                    }
                };
                if then == Then::Test {
                    let to = test_to.get_untracked();
                    let body = TestSendInput {
                        email: to.trim().to_owned(),
                        locale: test_locale.get_untracked(),
                    };
                    Client
                        .call::<serde_json::Value>("POST", &format!("{base}/test"), Some(&body))
                        .await?;
                }
                Ok::<Campaign, Problem>(current)
            }
            .await;
            match result {
                Ok(c) => {
                    show(c, false);
                    message.set(done.into());
                }
                Err(p) => problem.set(Some(p)),
            }
            busy.set(false);
        });
    };
    let cancel = move |_| {
        let Some(id) = campaign.get_untracked().map(|c| c.id) else {
            return;
        };
        confirm.set(None);
        spawn_local(async move {
            match Client
                .call::<Campaign>(
                    "POST",
                    &format!("/admin/campaigns/{id}/cancel"),
                    None::<&()>,
                )
                .await
            {
                Ok(c) => {
                    show(c.items, false);
                    message.set("Cancelled: nothing more will be sent.".into());
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };

    let field = move |get: fn(&crate::campaign_draft::Letter) -> &String| {
        move || draft.with(|d| get(d.lang(tab.get())).clone())
    };
    let state = move || status().map_or("new", CampaignStatus::as_str);
    let counts = move || {
        campaign.with(|c| {
            c.as_ref()
                .filter(|c| c.started_at.is_some())
                .map(|c| c.counts)
        })
    };

    view! {
        <p><button type="button" class="link" data-testid="back-to-campaigns" on:click=move |_| section.set(Section::Campaigns)>"← All campaigns"</button></p>
        <h1>{move || if campaign.with(Option::is_some) { "Campaign" } else { "New campaign" }}</h1>
        <p class="meta">"Status: " <span class="status" data-testid="campaign-status-now">{state}</span>
            {move || campaign.get().and_then(|c| c.scheduled_at).map(|at| view! {
                " · sends at " <time data-testid="campaign-send-at" datetime=at.clone()>{utc_to_local(&at).replace('T', " ")}</time>
            })}
        </p>
        <Show when=move || loaded.get() fallback=|| view! { <p role="status">"Loading the campaign…"</p> }>
        {move || counts().map(|n| view! {
            <section class="progress" aria-labelledby="progress-title" data-testid="campaign-progress">
                <h2 id="progress-title">"Delivery"</h2>
                <progress max=n.total.max(1) value=n.total - n.pending aria-label="Delivered or settled"></progress>
                <dl class="counts">
                    <div><dt>"Recipients"</dt><dd data-testid="count-total">{n.total}</dd></div>
                    <div><dt>"Sent"</dt><dd data-testid="count-sent">{n.sent}</dd></div>
                    <div><dt>"Waiting"</dt><dd data-testid="count-pending">{n.pending}</dd></div>
                    <div><dt>"Failed"</dt><dd data-testid="count-failed">{n.failed}</dd></div>
                    <div><dt>"Skipped"</dt><dd data-testid="count-skipped">{n.skipped}</dd></div>
                    <div><dt>"Cancelled"</dt><dd data-testid="count-cancelled">{n.cancelled}</dd></div>
                </dl>
            </section>
        })}
        <LangTabs tab switched=move |()| render_preview()/>
        <div class="editor" id="lang-panel" role="tabpanel" aria-labelledby=move || format!("tab-{}", tab.get()) lang=move || tab.get()>
            <div class="fields">
                <label for="campaign-subject">"Subject"</label>
                <input id="campaign-subject" name="subject" data-testid="campaign-subject-input" prop:value=field(|l| &l.subject)
                    prop:readonly=move || !editable()
                    on:input=move |ev| draft.update(|d| d.lang_mut(tab.get_untracked()).subject = event_target_value(&ev))/>
                <label for="campaign-body">"Body (Markdown)"</label>
                <textarea id="campaign-body" name="body" rows="14" data-testid="campaign-body-input" prop:value=field(|l| &l.body)
                    prop:readonly=move || !editable()
                    on:input=move |ev| {
                        draft.update(|d| d.lang_mut(tab.get_untracked()).body = event_target_value(&ev));
                        render_preview();
                    }></textarea>
            </div>
            <PreviewPane preview testid="campaign-preview"/>
        </div>
        <Show when=editable>
            <div class="actions">
                <button type="button" data-testid="campaign-save" prop:disabled=move || busy.get() on:click=move |_| act(Then::Nothing, "Saved.")>"Save draft"</button>
                <Show when=move || confirm.get() == Some("send") fallback=move || view! {
                    <button type="button" data-testid="campaign-send" prop:disabled=move || busy.get() on:click=move |_| confirm.set(Some("send"))>"Send now…"</button>
                }>
                    <button type="button" class="warn" data-testid="campaign-send-confirm" on:click=move |_| act(Then::Send, "Sending started: the counts above follow it.")>"Send to every confirmed subscriber"</button>
                    <button type="button" class="quiet" on:click=move |_| confirm.set(None)>"Not yet"</button>
                </Show>
            </div>
            <fieldset class="schedule">
                <legend>"Schedule"</legend>
                <label for="campaign-send-at">{move || format!("Send at ({})", time_zone())}</label>
                <input id="campaign-send-at" type="datetime-local" data-testid="campaign-send-at-input" bind:value=schedule_at/>
                <button type="button" data-testid="campaign-schedule" prop:disabled=move || busy.get() on:click=move |_| act(Then::Schedule, "Scheduled.")>"Schedule"</button>
                <Show when=move || status() == Some(CampaignStatus::Scheduled)>
                    <button type="button" class="quiet" data-testid="campaign-unschedule" on:click=move |_| act(Then::Unschedule, "Back to draft.")>"Unschedule"</button>
                </Show>
            </fieldset>
        </Show>
        <fieldset class="schedule">
            <legend>"Send a test"</legend>
            <label for="campaign-test-to">"To"</label>
            <input id="campaign-test-to" type="email" autocomplete="email" data-testid="campaign-test-to" bind:value=test_to/>
            <label for="campaign-test-locale">"Language"</label>
            <select id="campaign-test-locale" data-testid="campaign-test-locale" on:change=move |ev| test_locale.set(event_target_value(&ev))>
                {LANGS.map(|lang| view! { <option value=lang>{lang_name(lang)}</option> }).collect_view()}
            </select>
            <button type="button" data-testid="campaign-test" prop:disabled=move || busy.get() on:click=move |_| act(Then::Test, "Test sent.")>"Send test"</button>
        </fieldset>
        <p class="saved" data-testid="campaign-message" role="status">{move || message.get()}</p>
        <FormError problem/>
        <Show when=move || status().is_some_and(CampaignStatus::is_cancellable)>
            <div class="danger">
                <Show when=move || confirm.get() == Some("cancel") fallback=move || view! {
                    <button type="button" class="quiet" data-testid="campaign-cancel" on:click=move |_| confirm.set(Some("cancel"))>"Cancel campaign…"</button>
                }>
                    <button type="button" class="warn" data-testid="campaign-cancel-confirm" on:click=cancel>"Cancel it: send nothing more"</button>
                    <button type="button" class="quiet" on:click=move |_| confirm.set(None)>"Keep it"</button>
                </Show>
            </div>
        </Show>
        </Show>
    }
}
