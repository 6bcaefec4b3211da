//! The posts list: every post but the deleted (or only one status), newest
//! change first, with search and paging, as `GET /admin/posts` answers.
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use sealpost_api::posts::AdminPost;

use super::Section;
use super::parts::{FormError, ListPage, Pager, list_query};

/// Posts per page of the list.
pub const PAGE_SIZE: u32 = 20;

/// The filters the list offers: (value of `status`, label).
const STATUSES: [(&str, &str); 5] = [
    ("", "All but deleted"),
    ("draft", "Drafts"),
    ("scheduled", "Scheduled"),
    ("published", "Published"),
    ("deleted", "Deleted"),
];

/// `/admin/posts` with the list's query.
pub fn list_path(status: &str, q: &str, page: u32) -> String {
    list_query("/admin/posts", PAGE_SIZE, status, q, page)
}

/// The title a list shows: English, else any language's.
pub fn title_of(post: &AdminPost) -> String {
    post.translations
        .get("en")
        .or_else(|| post.translations.values().next())
        .map(|t| t.title.clone())
        .unwrap_or_default()
}

#[component]
pub fn Posts(section: RwSignal<Section>) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let list = ListPage::<AdminPost>::new();
    let (items, info, problem) = (list.items, list.info, list.problem);

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

    view! {
        <div class="heading">
            <h1>"Posts"</h1>
            <button type="button" data-testid="new-post" on:click=move |_| section.set(Section::Edit(None))>"New post"</button>
        </div>
        <form class="filters" role="search" data-testid="post-search" on:submit=search>
            <label for="post-status">"Show"</label>
            <select id="post-status" data-testid="post-status" on:change=move |ev| {
                status.set(event_target_value(&ev));
                page.set(1);
                load();
            }>
                {STATUSES.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
            </select>
            <label for="post-q">"Search"</label>
            <input id="post-q" name="q" type="search" bind:value=q/>
            <button type="submit">"Search"</button>
        </form>
        <FormError problem/>
        {move || items.get().map(|list| if list.is_empty() {
            view! { <p data-testid="no-posts">"No posts here yet."</p> }.into_any()
        } else {
            view! {
                <table class="post-table" data-testid="post-table">
                    <thead><tr><th scope="col">"Title"</th><th scope="col">"Languages"</th><th scope="col">"Status"</th><th scope="col">"Last change"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|p| {
                            let langs = p.translations.keys().cloned().collect::<Vec<_>>().join(" · ");
                            let id = p.id.clone();
                            view! {
                                <tr data-testid="post-row" data-post-id=p.id.clone()>
                                    <td><button type="button" class="link" data-testid="post-title" on:click=move |_| section.set(Section::Edit(Some(id.clone())))>{title_of(&p)}</button></td>
                                    <td>{langs}</td>
                                    <td><span class="status" data-testid="post-state">{p.status.clone()}</span></td>
                                    <td><time datetime=p.updated_at.clone()>{p.updated_at.get(..10).unwrap_or_default().to_owned()}</time></td>
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
    fn the_list_asks_for_one_status_and_a_search_only_when_given() {
        assert_eq!(list_path("", "  ", 1), "/admin/posts?page=1&pageSize=20");
        assert_eq!(
            list_path("draft", "phở bò", 2),
            "/admin/posts?page=2&pageSize=20&status=draft&q=ph%E1%BB%9F+b%C3%B2"
        );
    }
}
