//! What a subscriber reads from us outside a campaign: the small bilingual
//! HTML pages of the confirmation and unsubscribe links (each a form with
//! one button, so link scanners that follow links change nothing), and the
//! two subscription emails (the confirmation link, the "already
//! subscribed" note). Pages are self-contained for the API's CSP
//! (`default-src 'none'`): no scripts, no styles, no external resources;
//! every interpolated value is escaped.
use sealpost_api::Locale;

use crate::links::escape;

/// One page: a bilingual title, paragraphs (English then Vietnamese) and an
/// optional form.
fn page(title_en: &str, title_vi: &str, en: &[&str], vi: &[&str], form: Option<&str>) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>",
    );
    out.push_str(&escape(title_en));
    out.push_str(" · ");
    out.push_str(&escape(title_vi));
    out.push_str("</title>\n</head>\n<body>\n<main>\n<h1>");
    out.push_str(&escape(title_en));
    out.push_str("</h1>\n");
    for p in en {
        out.push_str("<p>");
        out.push_str(&escape(p));
        out.push_str("</p>\n");
    }
    out.push_str("<h2 lang=\"vi\">");
    out.push_str(&escape(title_vi));
    out.push_str("</h2>\n");
    for p in vi {
        out.push_str("<p lang=\"vi\">");
        out.push_str(&escape(p));
        out.push_str("</p>\n");
    }
    if let Some(form) = form {
        out.push_str(form);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// `GET /subscribe/confirm?token` with a genuine token: a button that
/// POSTs the token to `/subscribe/confirm`.
pub fn confirm_page(token: &str) -> String {
    let form = format!(
        "<form method=\"post\" action=\"/subscribe/confirm\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\n\
         <button type=\"submit\">Confirm subscription · Xác nhận đăng ký</button>\n\
         </form>\n",
        escape(token)
    );
    page(
        "Confirm your subscription",
        "Xác nhận đăng ký",
        &["Press the button to start receiving our newsletter."],
        &["Nhấn nút bên dưới để bắt đầu nhận bản tin của chúng tôi."],
        Some(&form),
    )
}

/// After a browser form confirmed the subscription.
pub fn confirmed_page() -> String {
    page(
        "Subscription confirmed",
        "Đã xác nhận đăng ký",
        &["Thank you. You will receive our newsletter from now on."],
        &["Cảm ơn bạn. Từ nay bạn sẽ nhận được bản tin của chúng tôi."],
        None,
    )
}

/// `GET /unsubscribe?token` with a genuine token: an RFC 8058 one-click
/// form that POSTs `List-Unsubscribe=One-Click` to the same URL.
pub fn unsubscribe_page(token: &str) -> String {
    let form = format!(
        "<form method=\"post\" action=\"/unsubscribe?token={}\">\n\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n\
         <button type=\"submit\">Unsubscribe · Hủy đăng ký</button>\n\
         </form>\n",
        escape(token)
    );
    page(
        "Unsubscribe",
        "Hủy đăng ký",
        &["Press the button to stop receiving our newsletter."],
        &["Nhấn nút bên dưới để ngừng nhận bản tin của chúng tôi."],
        Some(&form),
    )
}

/// After a browser form unsubscribed.
pub fn unsubscribed_page() -> String {
    page(
        "You have been unsubscribed",
        "Bạn đã hủy đăng ký",
        &["You will not receive our newsletter any more."],
        &["Bạn sẽ không nhận được bản tin của chúng tôi nữa."],
        None,
    )
}

/// A link whose token is missing, forged, altered or expired (status 400).
pub fn invalid_link_page() -> String {
    page(
        "Invalid or expired link",
        "Liên kết không hợp lệ hoặc đã hết hạn",
        &["This link does not work (any more). Subscribe again to get a new one."],
        &["Liên kết này không (còn) dùng được. Hãy đăng ký lại để nhận liên kết mới."],
        None,
    )
}

/// An email's localised parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A short HTML email: paragraphs and one link (escaped).
fn email_html(lang: &str, before: &[&str], link_text: &str, url: &str, after: &[&str]) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n"
    );
    for p in before {
        out.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    out.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n",
        escape(url),
        escape(link_text)
    ));
    for p in after {
        out.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The confirmation email of a double opt-in round, in `locale`.
pub fn confirmation_email(locale: Locale, confirm_url: &str) -> EmailText {
    let (subject, intro, link, outro) = match locale {
        Locale::En => (
            "Confirm your subscription",
            "Please confirm your subscription to our newsletter by opening this link:",
            "Confirm my subscription",
            "The link works for 7 days. If you did not ask for this, ignore this email: \
             you will not be subscribed.",
        ),
        Locale::Vi => (
            "Xác nhận đăng ký nhận bản tin",
            "Vui lòng xác nhận đăng ký nhận bản tin bằng cách mở liên kết sau:",
            "Xác nhận đăng ký",
            "Liên kết có hiệu lực trong 7 ngày. Nếu bạn không yêu cầu, hãy bỏ qua email này: \
             bạn sẽ không được đăng ký.",
        ),
    };
    EmailText {
        subject: subject.to_owned(),
        text: format!("{intro}\n\n{confirm_url}\n\n{outro}\n"),
        html: email_html(locale.as_str(), &[intro], link, confirm_url, &[outro]),
    }
}

/// The note a confirmed subscriber gets when their address is subscribed
/// again, in `locale`, with the unsubscribe link.
pub fn already_subscribed_email(locale: Locale, unsubscribe_url: &str) -> EmailText {
    let (subject, intro, link, outro) = match locale {
        Locale::En => (
            "You are already subscribed",
            "Someone (probably you) asked to subscribe this address to our newsletter. \
             It is already subscribed: nothing changes.",
            "Unsubscribe",
            "To stop receiving the newsletter, open the link above.",
        ),
        Locale::Vi => (
            "Bạn đã đăng ký nhận bản tin",
            "Ai đó (có thể là bạn) vừa yêu cầu đăng ký địa chỉ này nhận bản tin. \
             Địa chỉ này đã được đăng ký: không có gì thay đổi.",
            "Hủy đăng ký",
            "Để ngừng nhận bản tin, hãy mở liên kết ở trên.",
        ),
    };
    EmailText {
        subject: subject.to_owned(),
        text: format!("{intro}\n\n{link}: {unsubscribe_url}\n\n{outro}\n"),
        html: email_html(locale.as_str(), &[intro], link, unsubscribe_url, &[outro]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_self_contained(html: &str) {
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        for banned in [
            "<script", "style=", "<style", "<link", "<img", "http://", "https://",
        ] {
            assert!(!html.contains(banned), "{banned} in {html}");
        }
    }

    #[test]
    fn pages_are_self_contained_noindex_and_bilingual() {
        for html in [
            confirm_page("a.b.1.c"),
            confirmed_page(),
            unsubscribe_page("a.b"),
            unsubscribed_page(),
            invalid_link_page(),
        ] {
            is_self_contained(&html);
            assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
            assert!(html.contains("<meta name=\"viewport\""));
            assert!(html.contains("lang=\"vi\""));
        }
    }

    #[test]
    fn tokens_are_escaped_into_the_forms() {
        let html = confirm_page("x\"><script>");
        assert!(html.contains("value=\"x&quot;&gt;&lt;script&gt;\""));
        assert!(!html.contains("<script>"));
        let html = unsubscribe_page("t\"&");
        assert!(html.contains("action=\"/unsubscribe?token=t&quot;&amp;\""));
        assert!(html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
    }

    #[test]
    fn emails_carry_their_link_in_text_and_html_in_the_locale() {
        let url = "https://example.com/subscribe/confirm?token=a&b";
        let en = confirmation_email(Locale::En, url);
        assert_eq!(en.subject, "Confirm your subscription");
        assert!(en.text.contains(url));
        assert!(
            en.html
                .contains("href=\"https://example.com/subscribe/confirm?token=a&amp;b\"")
        );
        let vi = already_subscribed_email(Locale::Vi, url);
        assert!(vi.subject.contains("đăng ký"));
        assert!(vi.html.contains("lang=\"vi\""));
        assert!(vi.text.contains(url));
    }
}
