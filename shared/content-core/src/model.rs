//! Post bodies as editors send them, their validation and normalisation,
//! the rows as stored and the objects the API answers (docs/api.md, Content).
use std::collections::BTreeMap;

use sealpost_api::Validator;
use sealpost_markdown as markdown;
use sealpost_ports::rfc3339;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// Slug length, characters of `[a-z0-9-]`.
pub const SLUG_MAX: usize = 100;
/// Title length after trimming.
pub const TITLE_MAX: usize = 200;
/// Excerpt length after trimming.
pub const EXCERPT_MAX: usize = 500;
/// Markdown body length (characters; the route itself takes at most 512 KiB).
pub const BODY_MAX: usize = 100_000;
/// Tags per post.
pub const TAGS_MAX: usize = 10;
/// Tag length, characters of `[a-z0-9-]`.
pub const TAG_MAX: usize = 32;
/// Longest `q`.
pub const QUERY_MAX: usize = 100;

/// A post's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Scheduled,
    Published,
    Deleted,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Scheduled,
        Status::Published,
        Status::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
            Status::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Whether `s` is a slug: 1–`max` characters of `[a-z0-9-]`, not starting or
/// ending with `-`.
pub fn is_slug(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `Some(x)` for a present value (also `null`), `None` when absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// One language version, as created.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationInput {
    pub title: String,
    pub slug: String,
    #[serde(default)]
    pub excerpt: String,
    pub body: String,
}

/// `translations` of a new post: at least one language.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationsInput {
    pub en: Option<TranslationInput>,
    pub vi: Option<TranslationInput>,
}

/// `POST /admin/posts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    pub translations: TranslationsInput,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One language version in a PATCH: only the fields to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationPatch {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub body: Option<String>,
}

/// `translations` of a PATCH: a language absent is unchanged, `null`
/// removes it, an object changes (or adds) it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationsPatch {
    #[serde(default, deserialize_with = "present")]
    pub en: Option<Option<TranslationPatch>>,
    #[serde(default, deserialize_with = "present")]
    pub vi: Option<Option<TranslationPatch>>,
}

/// `PATCH /admin/posts/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchInput {
    pub version: i64,
    pub translations: Option<TranslationsPatch>,
    pub tags: Option<Vec<String>>,
}

/// `POST …/publish` and `…/unpublish` (the body is optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub version: Option<i64>,
}

/// `POST …/schedule`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduleInput {
    pub publish_at: String,
    pub version: Option<i64>,
}

/// A validated language version, with its rendered body.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub lang: &'static str,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub body: String,
    pub body_html: String,
}

/// Largest rendered body stored (D1 rows are at most 2 MB).
pub const BODY_HTML_MAX_BYTES: usize = 1_000_000;

/// Checks one language version's fields (`translations.{lang}.…`) and
/// renders it. `None` when anything was wrong (recorded in `v`).
pub fn translation(
    v: &mut Validator,
    lang: &'static str,
    title: &str,
    slug: &str,
    excerpt: &str,
    body: &str,
) -> Option<Translation> {
    let before = v.errors().len();
    let field = |name: &str| format!("translations.{lang}.{name}");
    let title = title.trim();
    v.text_len(&field("title"), title, 1, TITLE_MAX);
    check_control(v, &field("title"), title);
    v.check(
        is_slug(slug, SLUG_MAX),
        &field("slug"),
        &format!(
            "Must be 1 to {SLUG_MAX} characters of a-z, 0-9 and '-', not starting or ending with '-'"
        ),
    );
    let excerpt = excerpt.trim();
    v.text_len(&field("excerpt"), excerpt, 0, EXCERPT_MAX);
    check_control(v, &field("excerpt"), excerpt);
    let body_html = rendered_body(v, &field("body"), body);
    if v.errors().len() != before {
        return None;
    }
    let body_html = body_html?;
    Some(Translation {
        lang,
        slug: slug.to_owned(),
        title: title.to_owned(),
        excerpt: excerpt.to_owned(),
        body: body.to_owned(),
        body_html,
    })
}

/// Checks a Markdown `body` (not blank, at most [`BODY_MAX`] characters)
/// and renders it, the HTML the site shows; refused too when that HTML
/// passes [`BODY_HTML_MAX_BYTES`]. `None` when refused (recorded on `field`).
pub fn rendered_body(v: &mut Validator, field: &str, body: &str) -> Option<String> {
    let chars = body.chars().count();
    if body.trim().is_empty() || chars > BODY_MAX {
        v.add(
            field,
            format!("Must be between 1 and {BODY_MAX} characters and not blank"),
        );
        return None;
    }
    let html = markdown::render(body);
    if html.len() > BODY_HTML_MAX_BYTES {
        v.add(field, "Renders to more than 1 MB of HTML");
        return None;
    }
    Some(html)
}

fn check_control(v: &mut Validator, field: &str, text: &str) {
    v.check(
        !text.chars().any(char::is_control),
        field,
        "Must not contain control characters",
    );
}

/// Normalises (trims, lower-cases) and checks `tags`.
pub fn tags(v: &mut Validator, raw: &[String]) -> Vec<String> {
    v.check(
        raw.len() <= TAGS_MAX,
        "tags",
        &format!("At most {TAGS_MAX} tags"),
    );
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, tag) in raw.iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if !is_slug(&tag, TAG_MAX) {
            v.add(
                format!("tags[{i}]"),
                format!("Must be 1 to {TAG_MAX} characters of a-z, 0-9 and '-'"),
            );
        } else if out.contains(&tag) {
            v.add(format!("tags[{i}]"), "Is listed twice");
        } else {
            out.push(tag);
        }
    }
    out
}

/// A validated new post.
#[derive(Debug)]
pub struct NewPost {
    pub translations: Vec<Translation>,
    pub tags: Vec<String>,
}

impl CreateInput {
    pub fn validate(&self) -> Result<NewPost, sealpost_api::ApiError> {
        let mut v = Validator::new();
        let mut translations = Vec::new();
        for (lang, t) in [("en", &self.translations.en), ("vi", &self.translations.vi)] {
            if let Some(t) = t
                && let Some(t) = translation(&mut v, lang, &t.title, &t.slug, &t.excerpt, &t.body)
            {
                translations.push(t);
            }
        }
        v.check(
            self.translations.en.is_some() || self.translations.vi.is_some(),
            "translations",
            "Needs at least one of: en, vi",
        );
        let tags = tags(&mut v, &self.tags);
        v.finish()?;
        Ok(NewPost { translations, tags })
    }
}

/// The `posts` columns read back.
pub const POST_COLUMNS: &str = "p.id, p.status, p.version, p.author_id, p.publish_at, \
     p.published_at, p.created_at, p.updated_at, \
     (SELECT json_group_array(tag) FROM (SELECT g.tag FROM post_tags g \
       WHERE g.post_id = p.id ORDER BY g.position)) AS tags";

/// A `posts` row (with its tags as a JSON array text).
#[derive(Debug, Clone, Deserialize)]
pub struct PostRow {
    pub id: String,
    pub status: String,
    pub version: i64,
    pub author_id: String,
    pub publish_at: Option<i64>,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: String,
}

impl PostRow {
    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }
}

/// A `post_translations` row.
#[derive(Debug, Clone, Deserialize)]
pub struct TranslationRow {
    pub lang: String,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub body_html: String,
}

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339(ms)))
}

/// The admin post object: `{id, status, version, translations:{en:{title,
/// slug, excerpt, body}, vi:{…}}, tags, publishAt, publishedAt, createdAt,
/// updatedAt, authorId}`; lists leave out `body` (`with_body` false).
pub fn admin_view(post: &PostRow, translations: &[TranslationRow], with_body: bool) -> Value {
    let mut map = BTreeMap::new();
    for t in translations {
        let mut one = json!({"title": t.title, "slug": t.slug, "excerpt": t.excerpt});
        if with_body {
            one["body"] = Value::String(t.body.clone());
        }
        map.insert(t.lang.clone(), one);
    }
    json!({
        "id": post.id,
        "status": post.status,
        "version": post.version,
        "translations": map,
        "tags": post.tags(),
        "publishAt": time(post.publish_at),
        "publishedAt": time(post.published_at),
        "createdAt": rfc3339(post.created_at),
        "updatedAt": rfc3339(post.updated_at),
        "authorId": post.author_id,
    })
}

pub use sealpost_api::posts::{Author, PostItem as PublicItem, Rating};

/// `publishedAt` as RFC 3339.
pub fn published(ms: Option<i64>) -> String {
    ms.map(rfc3339).unwrap_or_default()
}
