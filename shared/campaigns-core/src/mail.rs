//! Composing a campaign email for one recipient: the subject and body in the
//! subscriber's locale, a plain-text part (the Markdown as written) and an
//! HTML part (the safe Markdown renderer), each with a footer carrying
//! the subscriber's unsubscribe link, the RFC 2369 / RFC 8058
//! `List-Unsubscribe` headers, and the email's own identity
//! `{site}:{campaign}:{subscriber}`. Composing is deterministic: the same
//! inputs give the same email byte for byte, which is what lets a batch be
//! resent as the identical request (docs/adr/0014, 0015).
//!
//! A job renders each locale's HTML once ([`CampaignMail::new`]), not once
//! per recipient.
use sealpost_markdown as markdown;
use serde::Deserialize;

use crate::keys::CampaignKeys;
use crate::links::{escape, list_unsubscribe_headers, unsubscribe_url};
use crate::ports::OutgoingEmail;

/// A campaign's texts, as stored (`campaigns.subject_*`, `body_*`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CampaignText {
    pub subject_en: String,
    pub subject_vi: String,
    pub body_en: String,
    pub body_vi: String,
}

/// One locale's email, rendered once per job.
#[derive(Debug, Clone)]
struct Letter {
    subject: String,
    text: String,
    html: String,
}

/// A campaign ready to be addressed: both locales rendered.
#[derive(Debug, Clone)]
pub struct CampaignMail {
    site: String,
    campaign: String,
    origin: String,
    en: Letter,
    vi: Letter,
}

impl CampaignMail {
    /// Renders both locales of campaign `campaign` of `site`; links use
    /// `origin` (`sealpost_ports::site_base_url`).
    pub fn new(site: &str, campaign: &str, origin: &str, text: &CampaignText) -> CampaignMail {
        CampaignMail {
            site: site.to_owned(),
            campaign: campaign.to_owned(),
            origin: origin.to_owned(),
            en: letter(&text.subject_en, &text.body_en),
            vi: letter(&text.subject_vi, &text.body_vi),
        }
    }

    /// The identity of one ledger row's email.
    pub fn idempotency_key(&self, subscriber_id: &str) -> String {
        idempotency_key(&self.site, &self.campaign, subscriber_id)
    }

    /// The email for subscriber `subscriber_id` at address `to`, in `locale`
    /// (`"vi"` is Vietnamese; anything else English).
    pub fn compose(
        &self,
        keys: &CampaignKeys,
        subscriber_id: &str,
        to: &str,
        locale: &str,
    ) -> OutgoingEmail {
        let vi = locale == "vi";
        let letter = if vi { &self.vi } else { &self.en };
        let url = unsubscribe_url(&self.origin, &keys.unsubscribe_token(subscriber_id));
        let (why, unsubscribe) = if vi {
            (
                "Bạn nhận được email này vì đã đăng ký nhận bản tin.",
                "Hủy đăng ký",
            )
        } else {
            (
                "You receive this email because you subscribed to this newsletter.",
                "Unsubscribe",
            )
        };
        let text = format!("{}\n\n-- \n{why}\n{unsubscribe}: {url}\n", letter.text);
        let html = format!(
            "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <title>{title}</title></head><body>\n{body}<hr>\n<p>{why} \
             <a href=\"{href}\">{unsubscribe}</a></p>\n</body></html>\n",
            lang = if vi { "vi" } else { "en" },
            title = escape(&letter.subject),
            body = letter.html,
            href = escape(&url),
        );
        OutgoingEmail {
            to: to.to_owned(),
            subject: letter.subject.clone(),
            text,
            html,
            headers: list_unsubscribe_headers(&url),
            idempotency_key: self.idempotency_key(subscriber_id),
        }
    }
}

/// `{site}:{campaign}:{subscriber}`: one ledger row's email.
pub fn idempotency_key(site: &str, campaign: &str, subscriber_id: &str) -> String {
    format!("{site}:{campaign}:{subscriber_id}")
}

fn letter(subject: &str, body: &str) -> Letter {
    Letter {
        subject: header_safe(subject),
        text: body.trim_end().to_owned(),
        html: markdown::render(body),
    }
}

/// A subject is one header line: control characters (CR/LF above all)
/// become spaces, whatever the validation upstream let through.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> CampaignText {
        CampaignText {
            subject_en: "News\r\nBcc: x@evil.test".into(),
            subject_vi: "Tin tức".into(),
            body_en: "Hello **world** <script>alert(1)</script>".into(),
            body_vi: "Xin chào".into(),
        }
    }

    #[test]
    fn a_subject_cannot_smuggle_a_header() {
        let keys = CampaignKeys::from_bytes(&[1u8; 32]);
        let mail = CampaignMail::new("default", "c1", "https://example.com", &text());
        let e = mail.compose(&keys, "ab12", "a@example.com", "en");
        assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
        assert!(e.subject.starts_with("News"));
    }

    #[test]
    fn the_email_is_in_the_subscribers_locale_with_its_own_unsubscribe_link() {
        let keys = CampaignKeys::from_bytes(&[1u8; 32]);
        let mail = CampaignMail::new("default", "c1", "https://example.com", &text());
        let e = mail.compose(&keys, "ab12", "a@example.com", "vi");
        let url = format!(
            "https://example.com/unsubscribe?token={}",
            keys.unsubscribe_token("ab12")
        );
        assert_eq!(e.subject, "Tin tức");
        assert!(e.text.starts_with("Xin chào"));
        assert!(e.text.contains(&url));
        assert!(e.html.contains("Hủy đăng ký"));
        assert_eq!(e.headers, list_unsubscribe_headers(&url));
        assert_eq!(e.idempotency_key, "default:c1:ab12");
        assert_eq!(e.to, "a@example.com");
    }

    #[test]
    fn markup_in_the_body_is_escaped_in_the_html() {
        let keys = CampaignKeys::from_bytes(&[1u8; 32]);
        let mail = CampaignMail::new("default", "c1", "https://example.com", &text());
        let e = mail.compose(&keys, "ab12", "a@example.com", "en");
        assert!(e.html.contains("<strong>world</strong>"));
        assert!(!e.html.contains("<script>"));
        assert!(e.html.contains("&lt;script&gt;"));
    }
}
