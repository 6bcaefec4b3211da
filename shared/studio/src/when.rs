//! Times as staff see them: the browser's own time zone in every picker and
//! label, RFC 3339 in UTC on the wire.
use wasm_bindgen::JsValue;

/// `datetime-local`'s value (the browser's time zone) as RFC 3339 in UTC.
pub fn local_to_utc(local: &str) -> Option<String> {
    let date = js_sys::Date::new(&JsValue::from_str(local));
    (!date.get_time().is_nan()).then(|| String::from(date.to_iso_string()))
}

/// An RFC 3339 instant as a `datetime-local` value in the browser's time zone.
pub fn utc_to_local(iso: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return String::new();
    }
    let shifted = date.get_time() - date.get_timezone_offset() * 60_000.0;
    let text = String::from(js_sys::Date::new(&JsValue::from_f64(shifted)).to_iso_string());
    text.get(..16).unwrap_or_default().to_owned()
}

/// The browser's IANA time zone (`Asia/Ho_Chi_Minh`), for a picker's label.
pub fn time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &JsValue::from_str("timeZone"))
        .ok()
        .and_then(|z| z.as_string())
        .unwrap_or_else(|| "local time".into())
}
