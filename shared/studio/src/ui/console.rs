//! The console's frame once signed in: who is signed in, sign-out, and the
//! section shown, kept in step with the address bar.
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::account::User;

use super::campaign::CampaignScreen;
use super::campaigns::Campaigns;
use super::editor::Editor;
use super::posts::Posts;
use super::subscribers::Subscribers;
use super::{Screen, Section, is_admin};
use crate::client::Client;

#[component]
pub fn Console(screen: RwSignal<Screen>, user: User) -> impl IntoView {
    let here = || {
        web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default()
    };
    let section = RwSignal::new(Section::parse(&here()));
    // The address bar follows the section, and Back and Forward move it.
    Effect::new(move |_| {
        let path = section.get().path();
        if here() != path
            && let Some(history) = web_sys::window().and_then(|w| w.history().ok())
        {
            // A refused push only leaves the address bar behind.
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
    });
    let back = window_event_listener(leptos::ev::popstate, move |_| {
        section.set(Section::parse(&here()))
    });
    on_cleanup(move || back.remove());
    let admin = is_admin(&user);
    let on_posts = move || matches!(section.get(), Section::Posts | Section::Edit(_));
    let on_campaigns = move || matches!(section.get(), Section::Campaigns | Section::Campaign(_));
    let sign_out = move |_| {
        spawn_local(async move {
            Client.end().await;
            screen.set(Screen::SignIn(Some("You are signed out.".into())));
        });
    };
    view! {
        <header class="studio-bar">
            <a class="brand" href="/studio/">"Studio"</a>
            <nav aria-label="Console">
                <button type="button" class="link" data-testid="nav-posts" aria-current=move || on_posts().then_some("page") on:click=move |_| section.set(Section::Posts)>"Posts"</button>
                {admin.then(|| view! {
                    <button type="button" class="link" data-testid="nav-campaigns" aria-current=move || on_campaigns().then_some("page") on:click=move |_| section.set(Section::Campaigns)>"Campaigns"</button>
                    <button type="button" class="link" data-testid="nav-subscribers" aria-current=move || (section.get() == Section::Subscribers).then_some("page") on:click=move |_| section.set(Section::Subscribers)>"Subscribers"</button>
                })}
                <a href="/">"View site"</a>
            </nav>
            <span class="who" data-testid="studio-user">{user.display_name.clone()} " · " {user.email.clone()}</span>
            <button type="button" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
        </header>
        <main id="main" data-testid="studio-console">
            {move || match section.get() {
                Section::Posts => view! { <Posts section/> }.into_any(),
                Section::Edit(id) => view! { <Editor section id/> }.into_any(),
                Section::Campaigns => view! { <Campaigns section/> }.into_any(),
                Section::Campaign(id) => view! { <CampaignScreen section id/> }.into_any(),
                Section::Subscribers => view! { <Subscribers/> }.into_any(),
            }}
        </main>
    }
}
