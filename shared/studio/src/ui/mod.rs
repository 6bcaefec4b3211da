//! The console's screens and the one decision between them: who is here.
//! Signed out → sign in; signed in without a second factor and none
//! enrolled → enrolment; a member's account → refused; staff with a second
//! factor → the console.
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::account::User;

use crate::client::Client;

mod campaign;
mod campaigns;
mod console;
mod editor;
mod enrol;
mod parts;
mod posts;
mod preview;
mod signin;
mod subscribers;

/// What the console shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Finding out whether a session exists.
    Loading,
    /// The sign-in form, with a notice above it.
    SignIn(Option<String>),
    /// First run: TOTP enrolment for `email`.
    Enrol(String),
    /// The console itself.
    Console(User),
}

/// Which part of the console is open; each has its own path below
/// `/studio/`, so a reload or a shared link opens the same part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// `/studio/`
    Posts,
    /// The editor: `/studio/posts/{id}` for a saved post, `/studio/posts/new`.
    Edit(Option<String>),
    /// `/studio/campaigns`
    Campaigns,
    /// A campaign: `/studio/campaigns/{id}`, `/studio/campaigns/new`.
    Campaign(Option<String>),
    /// `/studio/subscribers`
    Subscribers,
}

impl Section {
    /// The section `path` names (the list for anything unknown).
    pub fn parse(path: &str) -> Section {
        let rest = path.strip_prefix("/studio").unwrap_or_default();
        match rest
            .trim_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["posts", "new"] => Section::Edit(None),
            ["posts", id] if is_id(id) => Section::Edit(Some((*id).to_owned())),
            ["campaigns"] => Section::Campaigns,
            ["subscribers"] => Section::Subscribers,
            ["campaigns", "new"] => Section::Campaign(None),
            ["campaigns", id] if is_id(id) => Section::Campaign(Some((*id).to_owned())),
            _ => Section::Posts,
        }
    }

    /// The path of this section.
    pub fn path(&self) -> String {
        match self {
            Section::Posts => "/studio/".to_owned(),
            Section::Edit(None) => "/studio/posts/new".to_owned(),
            Section::Edit(Some(id)) => format!("/studio/posts/{id}"),
            Section::Campaigns => "/studio/campaigns".to_owned(),
            Section::Subscribers => "/studio/subscribers".to_owned(),
            Section::Campaign(None) => "/studio/campaigns/new".to_owned(),
            Section::Campaign(Some(id)) => format!("/studio/campaigns/{id}"),
        }
    }
}

/// An id as the API makes them (letters, digits, `-`, `_`).
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && s != "new"
}

/// Whether `user` may run campaigns (the API asks for an admin).
pub fn is_admin(user: &User) -> bool {
    user.roles.iter().any(|r| r == "admin")
}

/// Whether `user` is staff (the console's only audience).
pub fn is_staff(user: &User) -> bool {
    user.roles.iter().any(|r| r == "admin" || r == "editor")
}

/// Where a person with a fresh access token goes next.
pub async fn arrive(screen: RwSignal<Screen>) {
    let client = Client;
    let next = match client.get::<User>("/auth/me").await {
        Ok(me) => {
            let user = me.items;
            if !is_staff(&user) {
                client.end().await;
                Screen::SignIn(Some(
                    "The console is for staff. This account is a member's.".into(),
                ))
            } else if client.has_second_factor() {
                Screen::Console(user)
            } else if !user.mfa_enabled {
                Screen::Enrol(user.email)
            } else {
                client.end().await;
                Screen::SignIn(Some("Sign in with your code to open the console.".into()))
            }
        }
        Err(p) => Screen::SignIn(Some(p.describe())),
    };
    screen.set(next);
}

/// The console: resumes a session kept in the site's cookie, then shows
/// the screen its holder may see.
#[component]
pub fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Loading);
    spawn_local(async move {
        match Client.resume().await {
            Ok(true) => arrive(screen).await,
            Ok(false) => screen.set(Screen::SignIn(None)),
            Err(p) => screen.set(Screen::SignIn(Some(p.describe()))),
        }
    });
    view! {
        {move || match screen.get() {
            Screen::Loading => view! {
                <main class="studio-loading"><p role="status">"Loading the console…"</p></main>
            }.into_any(),
            Screen::SignIn(notice) => view! { <signin::SignIn screen notice/> }.into_any(),
            Screen::Enrol(email) => view! { <enrol::Enrol screen email/> }.into_any(),
            Screen::Console(user) => view! { <console::Console screen user/> }.into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_reads_back_from_its_own_path() {
        for section in [
            Section::Posts,
            Section::Edit(None),
            Section::Edit(Some("01JABCDEF".into())),
            Section::Campaigns,
            Section::Campaign(None),
            Section::Campaign(Some("01JCAMPAIGN".into())),
            Section::Subscribers,
        ] {
            assert_eq!(Section::parse(&section.path()), section);
        }
    }

    #[test]
    fn an_unknown_or_malformed_path_opens_the_list() {
        assert_eq!(Section::parse("/studio"), Section::Posts);
        assert_eq!(Section::parse("/studio/nothing/here"), Section::Posts);
        assert_eq!(Section::parse("/studio/posts/<x>"), Section::Posts);
    }
}
