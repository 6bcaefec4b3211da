//! What the console shares with the site's scripts in the browser: the
//! `localStorage` hint that a session cookie may exist, and a Web Lock
//! (`navigator.locks`) held across tabs while the cookie's refresh token is
//! spent. Both degrade to nothing where the browser lacks them.
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

/// The site's scripts and the console share one session cookie, and these
/// two names with the site's `app.js`: a `localStorage` hint that the
/// browser may hold the cookie (without it nothing asks `/session/refresh`,
/// so a signed-out visit makes no 401), and the Web Lock that keeps two
/// tabs from presenting the same rotating refresh token at once (a reuse
/// ends the session).
const HINT_KEY: &str = "sealpost.session";
pub const REFRESH_LOCK: &str = "sealpost.refresh";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Whether this browser may hold a session cookie.
pub fn get() -> bool {
    storage()
        .and_then(|s| s.get_item(HINT_KEY).ok().flatten())
        .is_some()
}

/// Records that it does (or no longer does).
pub fn set(on: bool) {
    if let Some(s) = storage() {
        // A full or blocked storage only costs a refresh that answers 401.
        let _ = if on {
            s.set_item(HINT_KEY, "1")
        } else {
            s.remove_item(HINT_KEY)
        };
    }
}

/// Runs `work` holding the Web Lock `name` (held by no other tab of this
/// origin meanwhile); without Web Locks, just runs it. `None` only if the
/// browser granted the lock yet dropped the work, which it does not do.
pub async fn locked<T, F, W>(name: &str, work: W) -> Option<T>
where
    T: 'static,
    F: Future<Output = T> + 'static,
    W: FnOnce() -> F + 'static,
{
    let locks = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|l| !l.is_undefined() && !l.is_null());
    let request = locks.as_ref().and_then(|l| {
        js_sys::Reflect::get(l, &JsValue::from_str("request"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    });
    let (Some(locks), Some(request)) = (locks, request) else {
        return Some(work().await);
    };
    let pending = Rc::new(RefCell::new(Some(work)));
    let done = Rc::new(RefCell::new(None::<T>));
    let (take, put) = (pending.clone(), done.clone());
    // The lock is held until the promise this callback returns settles.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        let work = take.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(work) = work {
                let value = work().await;
                *put.borrow_mut() = Some(value);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let held = request
        .call2(&locks, &JsValue::from_str(name), &callback)
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    if let Some(p) = held {
        // The promise settles once the work is done and the lock released.
        let _ = JsFuture::from(p).await;
    }
    if let Some(value) = done.borrow_mut().take() {
        return Some(value);
    }
    // The lock was refused outright: run without it.
    let work = pending.borrow_mut().take()?;
    Some(work().await)
}
