//! Post bodies as editors send them, their validation and normalisation,
//! the rows as stored and the objects the API answers (docs/api.md, Content).
use sealpost_api::Validator;
use sealpost_markdown as markdown;
use sealpost_ports::rfc3339;
use serde::Deserialize;
use serde_json::Value;

/// Title length after trimming.
pub const TITLE_MAX: usize = 200;
/// Excerpt length after trimming.
pub const EXCERPT_MAX: usize = 500;
/// Markdown body length (characters; the route itself takes at most 512 KiB).
pub const BODY_MAX: usize = 100_000;
/// Tags per post.
pub const TAGS_MAX: usize = 10;
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

pub use sealpost_api::slug::{SLUG_MAX, TAG_MAX, is_slug};

pub use sealpost_api::posts::edits::{
    ActionInput, CreateInput, PatchInput, ScheduleInput, TranslationInput, TranslationPatch,
    TranslationsInput, TranslationsPatch,
};

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

impl NewPost {
    /// The new post `input` asks for, or every field error it has.
    pub fn validate(input: &CreateInput) -> Result<NewPost, sealpost_api::ApiError> {
        let mut v = Validator::new();
        let mut translations = Vec::new();
        for (lang, t) in [
            ("en", &input.translations.en),
            ("vi", &input.translations.vi),
        ] {
            if let Some(t) = t
                && let Some(t) = translation(&mut v, lang, &t.title, &t.slug, &t.excerpt, &t.body)
            {
                translations.push(t);
            }
        }
        v.check(
            input.translations.en.is_some() || input.translations.vi.is_some(),
            "translations",
            "Needs at least one of: en, vi",
        );
        let tags = tags(&mut v, &input.tags);
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

/// The admin post object (`sealpost_api::posts::AdminPost`); lists leave
/// out `body` (`with_body` false).
pub fn admin_view(post: &PostRow, translations: &[TranslationRow], with_body: bool) -> Value {
    let translations = translations
        .iter()
        .map(|t| {
            let one = AdminTranslation {
                title: t.title.clone(),
                slug: t.slug.clone(),
                excerpt: t.excerpt.clone(),
                body: with_body.then(|| t.body.clone()),
            };
            (t.lang.clone(), one)
        })
        .collect();
    let view = AdminPost {
        id: post.id.clone(),
        status: post.status.clone(),
        version: post.version,
        translations,
        tags: post.tags(),
        publish_at: post.publish_at.map(rfc3339),
        published_at: post.published_at.map(rfc3339),
        created_at: rfc3339(post.created_at),
        updated_at: rfc3339(post.updated_at),
        author_id: post.author_id.clone(),
    };
    // Strings, numbers and maps of them: serialising cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

pub use sealpost_api::posts::{
    AdminPost, AdminTranslation, Author, PostItem as PublicItem, Rating,
};

/// `publishedAt` as RFC 3339.
pub fn published(ms: Option<i64>) -> String {
    ms.map(rfc3339).unwrap_or_default()
}
