//! A post as the editor holds it while it is written: each language's four
//! fields and the tags as typed, and what a save sends for it — a whole new
//! post, or a patch of only what changed since the version it was opened at
//! (a language emptied is removed; a new one is sent whole).
use sealpost_api::posts::AdminPost;
use sealpost_api::posts::edits::{
    CreateInput, PatchInput, TranslationInput, TranslationPatch, TranslationsInput,
    TranslationsPatch,
};
use sealpost_api::slug;

/// The languages a post is written in, in the editor's tab order.
pub const LANGS: [&str; 2] = ["en", "vi"];

/// One language's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub body: String,
}

impl Fields {
    /// Nothing typed in any field: the language is not part of the post.
    pub fn is_blank(&self) -> bool {
        [&self.title, &self.slug, &self.excerpt, &self.body]
            .iter()
            .all(|f| f.trim().is_empty())
    }

    /// The slug to send: as typed, else suggested from the title.
    pub fn slug_or_suggested(&self) -> String {
        match self.slug.trim() {
            "" => slug::suggest(&self.title),
            typed => typed.to_owned(),
        }
    }

    /// Written far enough to be saved: a title, a body and a usable slug.
    fn is_complete(&self) -> bool {
        !self.title.trim().is_empty()
            && !self.body.trim().is_empty()
            && slug::is_slug(&self.slug_or_suggested(), slug::SLUG_MAX)
    }

    fn input(&self) -> TranslationInput {
        TranslationInput {
            title: self.title.trim().to_owned(),
            slug: self.slug_or_suggested(),
            excerpt: self.excerpt.trim().to_owned(),
            body: self.body.clone(),
        }
    }
}

/// The post being edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub en: Fields,
    pub vi: Fields,
    /// As typed: separated by commas or spaces.
    pub tags: String,
}

impl Draft {
    /// The post as the API holds it (with its bodies).
    pub fn from_post(post: &AdminPost) -> Draft {
        let fields = |lang: &str| {
            post.translations
                .get(lang)
                .map(|t| Fields {
                    title: t.title.clone(),
                    slug: t.slug.clone(),
                    excerpt: t.excerpt.clone(),
                    body: t.body.clone().unwrap_or_default(),
                })
                .unwrap_or_default()
        };
        Draft {
            en: fields("en"),
            vi: fields("vi"),
            tags: post.tags.join(", "),
        }
    }

    pub fn lang(&self, lang: &str) -> &Fields {
        if lang == "vi" { &self.vi } else { &self.en }
    }

    pub fn lang_mut(&mut self, lang: &str) -> &mut Fields {
        if lang == "vi" {
            &mut self.vi
        } else {
            &mut self.en
        }
    }

    /// The tags: lower-cased, each once, in the order typed.
    pub fn tag_list(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for tag in self
            .tags
            .split([',', ' '])
            .map(|t| t.trim().trim_start_matches('#').to_lowercase())
        {
            if !tag.is_empty() && !out.contains(&tag) {
                out.push(tag);
            }
        }
        out
    }

    /// `POST /admin/posts` for this draft.
    pub fn create(&self) -> CreateInput {
        let keep = |f: &Fields| (!f.is_blank()).then(|| f.input());
        CreateInput {
            translations: TranslationsInput {
                en: keep(&self.en),
                vi: keep(&self.vi),
            },
            tags: self.tag_list(),
        }
    }

    /// Whether [`Draft::create`] would be accepted as far as the console can
    /// tell: some language written, and every written one complete. A new
    /// post saves itself only then, so half a title never shows an error.
    pub fn can_create(&self) -> bool {
        let written: Vec<&Fields> = [&self.en, &self.vi]
            .into_iter()
            .filter(|f| !f.is_blank())
            .collect();
        !written.is_empty() && written.iter().all(|f| f.is_complete())
    }

    /// `PATCH /admin/posts/{id}` from `saved` (the draft as last saved, at
    /// `version`) to this one; `None` when nothing changed.
    pub fn patch(&self, saved: &Draft, version: i64) -> Option<PatchInput> {
        let lang = |now: &Fields, was: &Fields| -> Option<Option<TranslationPatch>> {
            match (now.is_blank(), was.is_blank()) {
                (true, true) => None,
                (true, false) => Some(None),
                (false, true) => {
                    let whole = now.input();
                    Some(Some(TranslationPatch {
                        title: Some(whole.title),
                        slug: Some(whole.slug),
                        excerpt: Some(whole.excerpt),
                        body: Some(whole.body),
                    }))
                }
                (false, false) => {
                    let (n, w) = (now.input(), was.input());
                    let changed = |a: String, b: String| (a != b).then_some(a);
                    let patch = TranslationPatch {
                        title: changed(n.title, w.title),
                        slug: changed(n.slug, w.slug),
                        excerpt: changed(n.excerpt, w.excerpt),
                        body: changed(n.body, w.body),
                    };
                    (patch != TranslationPatch::default()).then_some(Some(patch))
                }
            }
        };
        let translations = TranslationsPatch {
            en: lang(&self.en, &saved.en),
            vi: lang(&self.vi, &saved.vi),
        };
        let tags = (self.tag_list() != saved.tag_list()).then(|| self.tag_list());
        let translations = (translations != TranslationsPatch::default()).then_some(translations);
        (translations.is_some() || tags.is_some()).then_some(PatchInput {
            version,
            translations,
            tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(title: &str, body: &str) -> Fields {
        Fields {
            title: title.into(),
            body: body.into(),
            ..Fields::default()
        }
    }

    #[test]
    fn a_new_post_sends_only_the_languages_written_with_slugs_from_their_titles() {
        let draft = Draft {
            vi: fields("Phở bò Hà Nội", "Ngon."),
            tags: "Food, #pho food".into(),
            ..Draft::default()
        };
        let create = draft.create();
        assert!(create.translations.en.is_none());
        let vi = create.translations.vi.unwrap();
        assert_eq!(vi.slug, "pho-bo-ha-noi");
        assert_eq!(create.tags, vec!["food", "pho"]);
    }

    #[test]
    fn a_save_patches_only_the_fields_that_changed() {
        let saved = Draft {
            en: fields("Hello", "One"),
            ..Draft::default()
        };
        let mut now = saved.clone();
        now.en.body = "Two".into();
        let patch = now.patch(&saved, 4).unwrap();
        assert_eq!(patch.version, 4);
        let en = patch.translations.unwrap().en.unwrap().unwrap();
        assert_eq!(en.body.as_deref(), Some("Two"));
        assert_eq!(en.title, None);
        assert_eq!(patch.tags, None);
    }

    #[test]
    fn emptying_a_language_removes_it_and_writing_a_new_one_sends_it_whole() {
        let saved = Draft {
            en: fields("Hello", "One"),
            ..Draft::default()
        };
        let now = Draft {
            vi: fields("Xin chào", "Một"),
            ..Draft::default()
        };
        let t = now.patch(&saved, 1).unwrap().translations.unwrap();
        assert_eq!(t.en, Some(None));
        let vi = t.vi.unwrap().unwrap();
        assert_eq!(vi.slug.as_deref(), Some("xin-chao"));
        assert_eq!(vi.body.as_deref(), Some("Một"));
    }

    #[test]
    fn a_new_post_can_be_created_once_a_language_has_a_title_and_a_body() {
        let mut draft = Draft::default();
        assert!(!draft.can_create());
        draft.en.title = "Hello".into();
        assert!(!draft.can_create());
        draft.en.body = "One".into();
        assert!(draft.can_create());
    }

    #[test]
    fn a_half_written_second_language_keeps_a_new_post_from_being_created() {
        let draft = Draft {
            en: fields("Hello", "One"),
            vi: fields("Xin chào", ""),
            ..Draft::default()
        };
        assert!(!draft.can_create());
    }

    #[test]
    fn a_title_with_nothing_to_make_a_slug_from_is_not_enough() {
        assert!(
            !Draft {
                en: fields("!!!", "One"),
                ..Draft::default()
            }
            .can_create()
        );
    }

    #[test]
    fn an_unchanged_draft_has_nothing_to_save() {
        let saved = Draft {
            en: fields("Hello", "One"),
            tags: "a, b".into(),
            ..Draft::default()
        };
        let mut now = saved.clone();
        now.tags = "a b".into();
        assert_eq!(now.patch(&saved, 2), None);
    }
}
