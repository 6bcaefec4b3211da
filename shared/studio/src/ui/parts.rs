//! The pieces every screen of the console is built from: the language
//! tabs, a list's query and page, the pager, and the alert under a form.
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::PageInfo;

use crate::client::Client;
use crate::problem::Problem;

/// A language's name in itself, for a tab.
pub fn lang_name(lang: &str) -> &'static str {
    if lang == "vi" {
        "Tiếng Việt"
    } else {
        "English"
    }
}

/// The language tabs above a bilingual form; the panel they control is
/// `#lang-panel`. `switched` runs after a tab is chosen.
#[component]
pub fn LangTabs(
    tab: RwSignal<&'static str>,
    #[prop(into)] switched: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist" aria-label="Language">
            {crate::draft::LANGS.map(|lang| view! {
                <button type="button" role="tab" id=format!("tab-{lang}") data-testid=format!("tab-{lang}")
                    aria-controls="lang-panel" aria-selected=move || (tab.get() == lang).to_string()
                    on:click=move |_| { tab.set(lang); switched.run(()); }>{lang_name(lang)}</button>
            }).collect_view()}
        </div>
    }
}

/// `base` with a list's query: the page and its size, `status` and `q` only
/// when given.
pub fn list_query(base: &str, page_size: u32, status: &str, q: &str, page: u32) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("page", &page.to_string())
        .append_pair("pageSize", &page_size.to_string());
    if !status.is_empty() {
        query.append_pair("status", status);
    }
    if !q.trim().is_empty() {
        query.append_pair("q", q.trim());
    }
    format!("{base}?{}", query.finish())
}

/// One page of a list as the API answered it, or why it could not.
#[derive(Debug)]
pub struct ListPage<T: Send + Sync + 'static> {
    pub items: RwSignal<Option<Vec<T>>>,
    pub info: RwSignal<Option<PageInfo>>,
    pub problem: RwSignal<Option<Problem>>,
}

impl<T: Send + Sync + 'static> Clone for ListPage<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for ListPage<T> {}

impl<T: serde::de::DeserializeOwned + Send + Sync + 'static> ListPage<T> {
    pub fn new() -> ListPage<T> {
        ListPage {
            items: RwSignal::new(None),
            info: RwSignal::new(None),
            problem: RwSignal::new(None),
        }
    }

    /// Reads the page at `path` into the signals.
    pub fn load(self, path: String) {
        spawn_local(async move {
            match Client.get::<Vec<T>>(&path).await {
                Ok(listed) => {
                    self.problem.set(None);
                    self.items.set(Some(listed.items));
                    self.info.set(listed.page);
                }
                Err(p) => self.problem.set(Some(p)),
            }
        });
    }
}

impl<T: serde::de::DeserializeOwned + Send + Sync + 'static> Default for ListPage<T> {
    fn default() -> ListPage<T> {
        ListPage::new()
    }
}

/// The pager under a list: shown once there is more than one page; `go`
/// opens the page it is given.
#[component]
pub fn Pager(info: RwSignal<Option<PageInfo>>, #[prop(into)] go: Callback<u32>) -> impl IntoView {
    move || {
        info.get().filter(|i| i.total_pages > 1).map(|i| {
            view! {
                <nav class="pager" data-testid="pager" aria-label="Pages">
                    <button type="button" prop:disabled=i.page <= 1 on:click=move |_| go.run(i.page - 1)>"Newer"</button>
                    <span>{format!("Page {} of {}", i.page, i.total_pages)}</span>
                    <button type="button" prop:disabled=u64::from(i.page) >= i.total_pages on:click=move |_| go.run(i.page + 1)>"Older"</button>
                </nav>
            }
        })
    }
}

/// The alert under a form: empty until something went wrong.
#[component]
pub fn FormError(problem: RwSignal<Option<Problem>>) -> impl IntoView {
    view! {
        <p class="form-error" data-testid="form-error" role="alert">
            {move || problem.get().map(|p| p.describe())}
        </p>
    }
}
