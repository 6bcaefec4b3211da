//! The subscribers: the list (status filter, search, paging) as `GET
//! /admin/subscribers` answers, a CSV export of the filtered status, and a
//! CSV import of people who agreed elsewhere, with the admin's note of that
//! consent and a report of what the import did.
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::subscribers::{ImportInput, ImportReport, SubscriberItem};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::parts::{FormError, ListPage, Pager, list_query};
use crate::client::Client;
use crate::problem::Problem;

/// Subscribers per page of the list.
pub const PAGE_SIZE: u32 = 50;

/// The filters the list offers: (value of `status`, label).
const STATUSES: [(&str, &str); 4] = [
    ("", "All"),
    ("confirmed", "Confirmed"),
    ("pending", "Waiting for confirmation"),
    ("unsubscribed", "Unsubscribed"),
];

/// `/admin/subscribers` with the list's query.
pub fn list_path(status: &str, q: &str, page: u32) -> String {
    list_query("/admin/subscribers", PAGE_SIZE, status, q, page)
}

/// `/admin/subscribers/export` for one status (all when empty).
pub fn export_path(status: &str) -> String {
    if status.is_empty() {
        "/admin/subscribers/export".to_owned()
    } else {
        format!(
            "/admin/subscribers/export?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("status", status)
                .finish()
        )
    }
}

/// What an import did, in a sentence.
pub fn report_text(r: &ImportReport) -> String {
    format!(
        "{} imported, {} already subscribed or known, {} repeated in the file, {} refused.",
        r.imported, r.existing, r.duplicates, r.rejected_count
    )
}

/// Hands `bytes` to the browser as a download named `name`.
fn save_as(bytes: &[u8], name: &str) -> Option<()> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let document = web_sys::window()?.document()?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url).ok()
}

/// The text of the file chosen in `#import-file`.
async fn chosen_file() -> Option<String> {
    let input: web_sys::HtmlInputElement = web_sys::window()?
        .document()?
        .get_element_by_id("import-file")?
        .dyn_into()
        .ok()?;
    let file = input.files()?.get(0)?;
    JsFuture::from(file.text()).await.ok()?.as_string()
}

#[component]
pub fn Subscribers() -> impl IntoView {
    let status = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let list = ListPage::<SubscriberItem>::new();
    let (items, info, problem) = (list.items, list.info, list.problem);
    let consent = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ImportReport>);
    let busy = RwSignal::new(false);

    let load = move || {
        list.load(list_path(
            &status.get_untracked(),
            &q.get_untracked(),
            page.get_untracked(),
        ))
    };
    load();
    let search = move |ev: SubmitEvent| {
        ev.prevent_default();
        page.set(1);
        load();
    };
    let go = move |to: u32| {
        page.set(to);
        load();
    };
    let export = move |_| {
        let chosen = status.get_untracked();
        spawn_local(async move {
            match Client.download(&export_path(&chosen)).await {
                Ok(bytes) => {
                    let name = if chosen.is_empty() {
                        "subscribers.csv".to_owned()
                    } else {
                        format!("subscribers-{chosen}.csv")
                    };
                    if save_as(&bytes, &name).is_none() {
                        problem.set(Some(Problem::Unexpected(
                            "the browser refused the download".into(),
                        )));
                    }
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    let import = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        report.set(None);
        spawn_local(async move {
            let Some(csv) = chosen_file().await else {
                problem.set(Some(Problem::Incomplete(
                    "Choose a CSV file to import".into(),
                )));
                busy.set(false);
                return;
            };
            let body = ImportInput {
                csv,
                consent: consent.get_untracked(),
            };
            match Client
                .call::<ImportReport>("POST", "/admin/subscribers/import", Some(&body))
                .await
            {
                Ok(done) => {
                    problem.set(None);
                    report.set(Some(done.items));
                    load();
                }
                Err(p) => problem.set(Some(p)),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="heading">
            <h1>"Subscribers"</h1>
            <button type="button" data-testid="export-subscribers" on:click=export>"Export CSV"</button>
        </div>
        <form class="filters" role="search" data-testid="subscriber-search" on:submit=search>
            <label for="subscriber-status">"Show"</label>
            <select id="subscriber-status" data-testid="subscriber-status" on:change=move |ev| {
                status.set(event_target_value(&ev));
                page.set(1);
                load();
            }>
                {STATUSES.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
            </select>
            <label for="subscriber-q">"Search"</label>
            <input id="subscriber-q" name="q" type="search" bind:value=q/>
            <button type="submit">"Search"</button>
        </form>
        <FormError problem/>
        {move || items.get().map(|list| if list.is_empty() {
            view! { <p data-testid="no-subscribers">"No subscribers here."</p> }.into_any()
        } else {
            view! {
                <table class="post-table" data-testid="subscriber-table">
                    <thead><tr><th scope="col">"Address"</th><th scope="col">"Language"</th><th scope="col">"Status"</th><th scope="col">"Since"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|s| view! {
                            <tr data-testid="subscriber-row">
                                <td data-testid="subscriber-email">{s.email.clone().unwrap_or_else(|| "(unreadable)".into())}</td>
                                <td>{s.locale.clone()}</td>
                                <td><span class="status" data-testid="subscriber-state">{s.status.clone()}</span></td>
                                <td><time datetime=s.created_at.clone()>{s.created_at.get(..10).unwrap_or_default().to_owned()}</time></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
        <Pager info go/>
        <form class="schedule import" data-testid="import-form" on:submit=import>
            <fieldset>
                <legend>"Import people who agreed elsewhere"</legend>
                <p class="meta">"A CSV with a header row naming an " <code>"email"</code> " column (and " <code>"locale"</code> ", en or vi). They become confirmed without an email; addresses already here stay as they are. At most 1,000 people a file."</p>
                <label for="import-file">"CSV file"</label>
                <input id="import-file" type="file" accept=".csv,text/csv" data-testid="import-file"/>
                <label for="import-consent">"How they agreed (kept with each of them)"</label>
                <input id="import-consent" name="consent" data-testid="import-consent" bind:value=consent/>
                <button type="submit" data-testid="import-submit" prop:disabled=move || busy.get()>"Import"</button>
            </fieldset>
        </form>
        {move || report.get().map(|r| view! {
            <div role="status" data-testid="import-report">
                <p>{report_text(&r)}</p>
                <ul>{r.rejected.iter().map(|x| view! { <li>{format!("Line {}: {}", x.line, x.reason)}</li> }).collect_view()}</ul>
            </div>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_asks_for_one_status_only_when_given() {
        assert_eq!(export_path(""), "/admin/subscribers/export");
        assert_eq!(
            export_path("confirmed"),
            "/admin/subscribers/export?status=confirmed"
        );
    }

    #[test]
    fn the_list_asks_for_a_search_only_when_given() {
        assert_eq!(
            list_path("pending", " ann@ ", 2),
            "/admin/subscribers?page=2&pageSize=50&status=pending&q=ann%40"
        );
    }
}
