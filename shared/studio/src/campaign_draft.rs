//! A campaign as the composer holds it while it is written: each language's
//! subject and body as typed, and what a save sends for it — a whole new
//! campaign, or a patch of only the texts that changed since it was loaded.
use sealpost_api::campaigns::{Campaign, CampaignInput, CampaignPatch, Localised, LocalisedPatch};

/// One language's texts as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// The campaign being composed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignDraft {
    pub en: Letter,
    pub vi: Letter,
}

/// `Some(new)` when `new` differs from `old`.
fn changed(new: &str, old: &str) -> Option<String> {
    (new != old).then(|| new.to_owned())
}

/// A localised patch, or `None` when neither language changed.
fn localised(en: Option<String>, vi: Option<String>) -> Option<LocalisedPatch> {
    (en.is_some() || vi.is_some()).then_some(LocalisedPatch { en, vi })
}

impl CampaignDraft {
    /// The texts of a stored campaign (bodies empty when it came without).
    pub fn from_campaign(c: &Campaign) -> CampaignDraft {
        let body = c.body.clone().unwrap_or_default();
        CampaignDraft {
            en: Letter {
                subject: c.subject.en.clone(),
                body: body.en,
            },
            vi: Letter {
                subject: c.subject.vi.clone(),
                body: body.vi,
            },
        }
    }

    /// The language `lang` (`vi`, else English).
    pub fn lang(&self, lang: &str) -> &Letter {
        if lang == "vi" { &self.vi } else { &self.en }
    }

    /// The language `lang`, to change it.
    pub fn lang_mut(&mut self, lang: &str) -> &mut Letter {
        if lang == "vi" {
            &mut self.vi
        } else {
            &mut self.en
        }
    }

    /// `POST /admin/campaigns` for this draft (the server trims and checks).
    pub fn create(&self, scheduled_at: Option<String>) -> CampaignInput {
        CampaignInput {
            subject: Localised {
                en: self.en.subject.clone(),
                vi: self.vi.subject.clone(),
            },
            body: Localised {
                en: self.en.body.clone(),
                vi: self.vi.body.clone(),
            },
            scheduled_at,
        }
    }

    /// The texts that changed since `saved`, as a patch; `None` when
    /// nothing did.
    pub fn patch(&self, saved: &CampaignDraft) -> Option<CampaignPatch> {
        let subject = localised(
            changed(&self.en.subject, &saved.en.subject),
            changed(&self.vi.subject, &saved.vi.subject),
        );
        let body = localised(
            changed(&self.en.body, &saved.en.body),
            changed(&self.vi.body, &saved.vi.body),
        );
        (subject.is_some() || body.is_some()).then_some(CampaignPatch {
            subject,
            body,
            scheduled_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> CampaignDraft {
        CampaignDraft {
            en: Letter {
                subject: "News".into(),
                body: "Hello".into(),
            },
            vi: Letter {
                subject: "Tin".into(),
                body: "Xin chào".into(),
            },
        }
    }

    #[test]
    fn a_patch_carries_only_the_texts_that_changed() {
        let saved = draft();
        let mut now = draft();
        now.vi.subject = "Tin mới".into();
        let patch = now.patch(&saved).expect("a change");
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"subject": {"vi": "Tin mới"}})
        );
    }

    #[test]
    fn an_unchanged_draft_sends_no_patch() {
        assert_eq!(draft().patch(&draft()), None);
    }

    #[test]
    fn a_new_campaign_sends_both_languages_and_its_schedule() {
        let input = draft().create(Some("2027-01-01T08:00:00Z".into()));
        assert_eq!(input.subject.vi, "Tin");
        assert_eq!(input.body.en, "Hello");
        assert_eq!(input.scheduled_at.as_deref(), Some("2027-01-01T08:00:00Z"));
    }
}
