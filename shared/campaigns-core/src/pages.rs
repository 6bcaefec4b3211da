//! What a subscriber reads from us outside a campaign: the small bilingual
//! HTML pages of the confirmation and unsubscribe links (each a form with
//! one button, so link scanners that follow links change nothing), and the
//! two subscription emails (the confirmation link, the "already
//! subscribed" note). Pages are in the site's look: its header and its one
//! stylesheet and icon (fingerprinted, from the site's assets), no scripts,
//! and their own Content-Security-Policy ([`PAGE_CSP`]) that allows exactly
//! that; every interpolated value is escaped.
use sealpost_api::Locale;
use sealpost_site_assets as assets;

use crate::links::escape;

/// The policy of these pages: the site's stylesheet and icon from its own
/// origin, forms posting back to it, nothing else (no script at all).
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                            form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What a page shows of the site it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Look<'a> {
    /// The site's name, in the header (a link to its home).
    pub site_name: &'a str,
}

/// One page: a bilingual title, paragraphs (English then Vietnamese) and an
/// optional form, under the site's header.
fn page(look: Look<'_>, title: [&str; 2], en: &[&str], vi: &[&str], form: Option<&str>) -> String {
    let [title_en, title_vi] = title.map(escape);
    let site = escape(look.site_name);
    let css = assets::url(assets::STYLESHEET).unwrap_or_default();
    let icon = assets::url(assets::ICON).unwrap_or_default();
    let mut out = String::with_capacity(2048);
    out.push_str(&format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <title>{title_en} · {title_vi} · {site}</title>\n\
         <link rel=\"icon\" href=\"{icon}\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n</head>\n\
         <body data-page=\"subscription\">\n\
         <header class=\"site-header\">\n<div class=\"wrap bar\">\
         <a class=\"brand\" href=\"/\" data-testid=\"home-link\">{site}</a></div>\n</header>\n\
         <main id=\"main\" class=\"wrap\">\n<h1>{title_en}</h1>\n"
    ));
    for p in en {
        out.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    out.push_str(&format!("<section lang=\"vi\">\n<h2>{title_vi}</h2>\n"));
    for p in vi {
        out.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    out.push_str("</section>\n");
    if let Some(form) = form {
        out.push_str(form);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// `GET /subscribe/confirm?token` with a genuine token: a button that
/// POSTs the token to `/subscribe/confirm`.
pub fn confirm_page(look: Look<'_>, token: &str) -> String {
    let form = format!(
        "<form method=\"post\" action=\"/subscribe/confirm\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\n\
         <button type=\"submit\">Confirm subscription · Xác nhận đăng ký</button>\n\
         </form>\n",
        escape(token)
    );
    page(
        look,
        ["Confirm your subscription", "Xác nhận đăng ký"],
        &["Press the button to start receiving our newsletter."],
        &["Nhấn nút bên dưới để bắt đầu nhận bản tin của chúng tôi."],
        Some(&form),
    )
}

/// After a browser form confirmed the subscription.
pub fn confirmed_page(look: Look<'_>) -> String {
    page(
        look,
        ["Subscription confirmed", "Đã xác nhận đăng ký"],
        &["Thank you. You will receive our newsletter from now on."],
        &["Cảm ơn bạn. Từ nay bạn sẽ nhận được bản tin của chúng tôi."],
        None,
    )
}

/// `GET /unsubscribe?token` with a genuine token: an RFC 8058 one-click
/// form that POSTs `List-Unsubscribe=One-Click` to the same URL.
pub fn unsubscribe_page(look: Look<'_>, token: &str) -> String {
    let form = format!(
        "<form method=\"post\" action=\"/unsubscribe?token={}\">\n\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n\
         <button type=\"submit\">Unsubscribe · Hủy đăng ký</button>\n\
         </form>\n",
        escape(token)
    );
    page(
        look,
        ["Unsubscribe", "Hủy đăng ký"],
        &["Press the button to stop receiving our newsletter."],
        &["Nhấn nút bên dưới để ngừng nhận bản tin của chúng tôi."],
        Some(&form),
    )
}

/// After a browser form unsubscribed.
pub fn unsubscribed_page(look: Look<'_>) -> String {
    page(
        look,
        ["You have been unsubscribed", "Bạn đã hủy đăng ký"],
        &["You will not receive our newsletter any more."],
        &["Bạn sẽ không nhận được bản tin của chúng tôi nữa."],
        None,
    )
}

/// A link whose token is missing, forged, altered or expired (status 400).
pub fn invalid_link_page(look: Look<'_>) -> String {
    page(
        look,
        [
            "Invalid or expired link",
            "Liên kết không hợp lệ hoặc đã hết hạn",
        ],
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

    const LOOK: Look<'static> = Look {
        site_name: "Sổ tay <Lan>",
    };

    /// What the page's policy allows and nothing more: the site's
    /// stylesheet and icon, no script, no inline style, no other origin.
    fn keeps_to_its_policy(html: &str) {
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        for banned in ["<script", "style=", "<style", "<img", "http://", "https://"] {
            assert!(!html.contains(banned), "{banned} in {html}");
        }
        let css = assets::url(assets::STYLESHEET).unwrap();
        assert!(html.contains(&format!("<link rel=\"stylesheet\" href=\"{css}\">")));
        assert_eq!(html.matches("<link").count(), 2, "{html}");
    }

    #[test]
    fn pages_are_in_the_sites_look_noindex_and_bilingual() {
        for html in [
            confirm_page(LOOK, "a.b.1.c"),
            confirmed_page(LOOK),
            unsubscribe_page(LOOK, "a.b"),
            unsubscribed_page(LOOK),
            invalid_link_page(LOOK),
        ] {
            keeps_to_its_policy(&html);
            assert!(html.contains(
                "<a class=\"brand\" href=\"/\" data-testid=\"home-link\">Sổ tay &lt;Lan&gt;</a>"
            ));
            assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
            assert!(html.contains("<meta name=\"viewport\""));
            assert!(html.contains("lang=\"vi\""));
        }
    }

    #[test]
    fn tokens_are_escaped_into_the_forms() {
        let html = confirm_page(LOOK, "x\"><script>");
        assert!(html.contains("value=\"x&quot;&gt;&lt;script&gt;\""));
        assert!(!html.contains("<script>"));
        let html = unsubscribe_page(LOOK, "t\"&");
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
