//! Signing in: email and password sealed to `/auth/login`, then the
//! six-digit code when the account has a second factor.
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::account::{LoginAnswer, SignedIn};
use serde_json::json;

use super::parts::FormError;
use super::{Screen, arrive};
use crate::client::Client;
use crate::problem::Problem;

#[component]
pub fn SignIn(screen: RwSignal<Screen>, notice: Option<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let mfa_token = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<Problem>);
    let busy = RwSignal::new(false);

    let signed_in = move |s: SignedIn| async move {
        match Client.keep(&s.tokens).await {
            Ok(()) => arrive(screen).await,
            Err(p) => problem.set(Some(p)),
        }
    };
    let submit_password = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        problem.set(None);
        let body =
            json!({ "email": email.get_untracked().trim(), "password": password.get_untracked() });
        spawn_local(async move {
            match Client
                .sealed::<LoginAnswer>("/auth/login", &body, false)
                .await
            {
                Ok(LoginAnswer::SignedIn(s)) => {
                    password.set(String::new());
                    signed_in(s).await;
                }
                Ok(LoginAnswer::MfaRequired(m)) => {
                    password.set(String::new());
                    mfa_token.set(Some(m.mfa_token));
                }
                Err(p) => problem.set(Some(p)),
            }
            busy.set(false);
        });
    };
    let submit_code = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(token) = mfa_token.get_untracked() else {
            return;
        };
        busy.set(true);
        problem.set(None);
        let body = json!({ "mfaToken": token, "code": code.get_untracked().trim() });
        spawn_local(async move {
            match Client
                .sealed::<SignedIn>("/auth/login/mfa", &body, false)
                .await
            {
                Ok(s) => signed_in(s).await,
                Err(p) => problem.set(Some(p)),
            }
            code.set(String::new());
            busy.set(false);
        });
    };

    view! {
        <main class="studio-auth" id="main">
            <h1>"Sign in to the Studio"</h1>
            {notice.map(|n| view! { <p class="notice" data-testid="signin-notice" role="status">{n}</p> })}
            <Show
                when=move || mfa_token.get().is_some()
                fallback=move || view! {
                    <form data-testid="signin-form" on:submit=submit_password>
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required bind:value=email/>
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required bind:value=password/>
                        <button type="submit" prop:disabled=move || busy.get()>"Sign in"</button>
                    </form>
                }
            >
                <form data-testid="mfa-form" on:submit=submit_code>
                    <label for="code">"Code from your authenticator app (or a recovery code)"</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required bind:value=code/>
                    <button type="submit" prop:disabled=move || busy.get()>"Continue"</button>
                </form>
            </Show>
            <FormError problem/>
        </main>
    }
}
