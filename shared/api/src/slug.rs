//! Slugs: the rule a post's slug and a tag must keep (1 to a limit of
//! `a-z`, `0-9` and `-`, neither starting nor ending with `-`), and the slug
//! suggested from a title, with Vietnamese (and any Latin) diacritics folded
//! to their base letters: "Phở bò Hà Nội" → `pho-bo-ha-noi`.
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The longest slug a post's language version may have.
pub const SLUG_MAX: usize = 100;
/// The longest tag.
pub const TAG_MAX: usize = 32;

/// Whether `s` is a slug of at most `max` characters.
pub fn is_slug(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A slug for `title`: letters folded to ASCII (đ is d), anything else a
/// single `-`, at most [`SLUG_MAX`] characters cut at a word boundary.
/// Empty when the title has no letter or digit that folds to ASCII.
pub fn suggest(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    if out.len() > SLUG_MAX {
        let cut = out[..=SLUG_MAX].rfind('-').unwrap_or(SLUG_MAX);
        out.truncate(cut);
        while out.ends_with('-') {
            out.pop();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_diacritics_fold_to_their_base_letters() {
        assert_eq!(suggest("Phở bò Hà Nội"), "pho-bo-ha-noi");
        assert_eq!(suggest("Đường đến Đà Lạt"), "duong-den-da-lat");
        assert_eq!(
            suggest("Tiếng Việt: ắ ằ ẳ ẵ ặ ữ ỹ"),
            "tieng-viet-a-a-a-a-a-u-y"
        );
    }

    #[test]
    fn punctuation_and_spaces_become_one_dash_and_none_at_the_ends() {
        assert_eq!(suggest("  Rust -- at the Edge!  "), "rust-at-the-edge");
        assert_eq!(suggest("Café, crème & naïve"), "cafe-creme-naive");
    }

    #[test]
    fn a_title_without_latin_letters_suggests_nothing() {
        assert_eq!(suggest("日本語 ！"), "");
        assert_eq!(suggest(""), "");
    }

    #[test]
    fn a_long_title_is_cut_at_a_word_and_stays_a_slug() {
        let title = "word ".repeat(40);
        let slug = suggest(&title);
        assert!(slug.len() <= SLUG_MAX);
        assert!(is_slug(&slug, SLUG_MAX), "{slug}");
        assert!(slug.ends_with("word"));
    }

    #[test]
    fn every_suggestion_from_a_title_with_a_letter_is_a_slug() {
        for title in ["Xin chào", "A", "ÀÁÂÃ 123", "--x--", "ǅemal"] {
            let slug = suggest(title);
            assert!(is_slug(&slug, SLUG_MAX), "{title:?} → {slug:?}");
        }
    }
}
