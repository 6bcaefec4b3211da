//! First run: staff must have a second factor before the console opens.
//! Enrolment asks auth for a TOTP secret, draws its QR code here, enables it
//! with a first code and shows the recovery codes once; then the person
//! signs in again, this time with a code, to get a token the admin routes
//! accept.
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::account::{RecoveryCodes, TotpSetup};
use serde_json::json;

use super::Screen;
use super::parts::FormError;
use crate::client::Client;
use crate::problem::Problem;
use crate::qr;

#[component]
pub fn Enrol(screen: RwSignal<Screen>, email: String) -> impl IntoView {
    let setup = RwSignal::new(None::<TotpSetup>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let busy = RwSignal::new(false);

    spawn_local(async move {
        match Client
            .sealed::<TotpSetup>("/auth/mfa/totp/setup", &json!({}), true)
            .await
        {
            Ok(s) => setup.set(Some(s)),
            Err(p) => problem.set(Some(p)),
        }
    });
    let enable = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        problem.set(None);
        let body = json!({ "code": code.get_untracked().trim() });
        spawn_local(async move {
            match Client
                .sealed::<RecoveryCodes>("/auth/mfa/totp/enable", &body, true)
                .await
            {
                Ok(r) => {
                    setup.set(None);
                    codes.set(Some(r.recovery_codes));
                }
                Err(p) => problem.set(Some(p)),
            }
            code.set(String::new());
            busy.set(false);
        });
    };
    let done = move |_| {
        spawn_local(async move {
            // The password-only session has done its work.
            Client.end().await;
            codes.set(None);
            screen.set(Screen::SignIn(Some(
                "Two-step sign-in is on. Sign in again with a code from your app.".into(),
            )));
        });
    };

    view! {
        <main class="studio-auth" id="main">
            <h1>"Set up two-step sign-in"</h1>
            <p>"Staff sign in with a password and a code from an authenticator app. Signed in as "
                <strong data-testid="enrol-email">{email}</strong>"."</p>
            {move || setup.get().map(|s| {
                let drawing = qr::svg(&s.otpauth_uri, 208).unwrap_or_default();
                view! {
                    <ol class="steps">
                        <li>
                            "Scan this code with the app:"
                            <div class="qr" data-testid="totp-qr" role="img" aria-label="QR code of the sign-in secret" inner_html=drawing></div>
                        </li>
                        <li>"Or type the secret: " <code data-testid="totp-secret">{s.secret.clone()}</code></li>
                        <li>
                            <form data-testid="totp-enable-form" on:submit=enable>
                                <label for="totp-code">"Code the app shows"</label>
                                <input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" required bind:value=code/>
                                <button type="submit" prop:disabled=move || busy.get()>"Turn on"</button>
                            </form>
                        </li>
                    </ol>
                }
            })}
            {move || codes.get().map(|list| view! {
                <section data-testid="recovery-codes" aria-labelledby="recovery-title">
                    <h2 id="recovery-title">"Recovery codes"</h2>
                    <p>"Each code signs you in once if the app is lost. They are shown only now: store them somewhere safe."</p>
                    <ul class="codes">
                        {list.into_iter().map(|c| view! { <li><code data-testid="recovery-code">{c}</code></li> }).collect_view()}
                    </ul>
                    <button type="button" data-testid="recovery-saved" on:click=done>"I have stored them"</button>
                </section>
            })}
            <FormError problem/>
        </main>
    }
}
