//! The campaigns list: every campaign of the site (or those of one
//! status), newest first, with how far each got, as `GET /admin/campaigns`
//! answers.
use leptos::prelude::*;
use sealpost_api::campaigns::Campaign;

use super::Section;
use super::parts::{FormError, ListPage, Pager, list_query};

/// Campaigns per page of the list.
pub const PAGE_SIZE: u32 = 20;

/// The filters the list offers: (value of `status`, label).
const STATUSES: [(&str, &str); 7] = [
    ("", "All"),
    ("draft", "Drafts"),
    ("scheduled", "Scheduled"),
    ("sending", "Sending"),
    ("paused", "Paused"),
    ("sent", "Sent"),
    ("cancelled", "Cancelled"),
];

/// `/admin/campaigns` with the list's query.
pub fn list_path(status: &str, page: u32) -> String {
    list_query("/admin/campaigns", PAGE_SIZE, status, "", page)
}

/// How far a campaign got: "12 of 40 sent", or nothing before it started.
pub fn progress_text(c: &Campaign) -> String {
    if c.started_at.is_none() {
        return String::new();
    }
    format!("{} of {} sent", c.counts.sent, c.counts.total)
}

#[component]
pub fn Campaigns(section: RwSignal<Section>) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let list = ListPage::<Campaign>::new();
    let (items, info, problem) = (list.items, list.info, list.problem);

    let load = move || list.load(list_path(&status.get_untracked(), page.get_untracked()));
    load();
    let go = move |to: u32| {
        page.set(to);
        load();
    };

    view! {
        <div class="heading">
            <h1>"Campaigns"</h1>
            <button type="button" data-testid="new-campaign" on:click=move |_| section.set(Section::Campaign(None))>"New campaign"</button>
        </div>
        <form class="filters" on:submit=|ev| ev.prevent_default()>
            <label for="campaign-status">"Show"</label>
            <select id="campaign-status" data-testid="campaign-status" on:change=move |ev| {
                status.set(event_target_value(&ev));
                page.set(1);
                load();
            }>
                {STATUSES.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
            </select>
        </form>
        <FormError problem/>
        {move || items.get().map(|list| if list.is_empty() {
            view! { <p data-testid="no-campaigns">"No campaigns here yet."</p> }.into_any()
        } else {
            view! {
                <table class="post-table" data-testid="campaign-table">
                    <thead><tr><th scope="col">"Subject"</th><th scope="col">"Status"</th><th scope="col">"Delivery"</th><th scope="col">"Created"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|c| {
                            let id = c.id.clone();
                            let progress = progress_text(&c);
                            view! {
                                <tr data-testid="campaign-row" data-campaign-id=c.id.clone()>
                                    <td><button type="button" class="link" data-testid="campaign-subject" on:click=move |_| section.set(Section::Campaign(Some(id.clone())))>{c.subject.en.clone()}</button></td>
                                    <td><span class="status" data-testid="campaign-state">{c.status.as_str()}</span></td>
                                    <td>{progress}</td>
                                    <td><time datetime=c.created_at.clone()>{c.created_at.get(..10).unwrap_or_default().to_owned()}</time></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
        <Pager info go/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_asks_for_one_status_only_when_given() {
        assert_eq!(list_path("", 1), "/admin/campaigns?page=1&pageSize=20");
        assert_eq!(
            list_path("sending", 3),
            "/admin/campaigns?page=3&pageSize=20&status=sending"
        );
    }
}
