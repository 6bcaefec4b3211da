//! The languages Sealpost speaks: [`Locale`], the one list of them for
//! accounts, subscribers and posts, written in requests and stored as
//! [`Locale::as_str`] (`en`, `vi`).

/// A supported language. The first of [`Locale::ALL`] is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Locale {
    #[default]
    En,
    Vi,
}

impl Locale {
    /// Every locale, in display order (the default first).
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Vi];
    /// Every locale as written ([`Locale::as_str`]), in the order of
    /// [`Locale::ALL`]: the allowed values of a validated field.
    pub const NAMES: [&'static str; 2] = [Locale::ALL[0].as_str(), Locale::ALL[1].as_str()];

    /// `en` or `vi`, exactly (no case folding); anything else is `None`.
    pub fn parse(s: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The spelling in requests and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Vi => "vi",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_round_trips_through_its_name() {
        for l in Locale::ALL {
            assert_eq!(Locale::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn the_names_are_en_and_vi_in_display_order() {
        assert_eq!(Locale::NAMES, ["en", "vi"]);
    }

    #[test]
    fn other_spellings_and_languages_are_refused() {
        for bad in ["EN", "Vi", " en", "fr", ""] {
            assert_eq!(Locale::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_default_is_english() {
        assert_eq!(Locale::default(), Locale::En);
    }
}
