//! Gateway configuration, read from worker vars (see README, Configuration).
use std::collections::BTreeSet;

/// The default per-IP budget: requests per rate-limit period (kept in step with
/// the `[[ratelimits]]` binding in wrangler.toml, which enforces it).
pub const RETRY_AFTER_SECS: u32 = 60;

/// Settings of the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Origins allowed to call the API from a browser, exact `scheme://host[:port]`.
    pub allowed_origins: BTreeSet<String>,
    /// Local development: enables dev-only routes such as `/__dev/mail`.
    pub dev_mode: bool,
}

impl EdgeConfig {
    /// Reads `CORS_ORIGINS` (comma-separated) and `DEV_MODE` (`true`/`1`).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let allowed_origins = get("CORS_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        let dev_mode = matches!(
            get("DEV_MODE").as_deref().map(str::trim),
            Some("true" | "1")
        );
        Self {
            allowed_origins,
            dev_mode,
        }
    }

    /// Whether `origin` may make cross-origin calls.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.contains(&origin.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_trimmed_lowercased_and_dev_mode_is_opt_in() {
        let cfg = EdgeConfig::from_vars(|k| match k {
            "CORS_ORIGINS" => Some(" https://Example.com/, http://localhost:5173 ,".into()),
            _ => None,
        });
        assert!(cfg.origin_allowed("https://example.com"));
        assert!(cfg.origin_allowed("http://localhost:5173"));
        assert!(!cfg.origin_allowed("https://evil.example"));
        assert!(!cfg.dev_mode);
        let dev = EdgeConfig::from_vars(|k| (k == "DEV_MODE").then(|| "true".into()));
        assert!(dev.dev_mode);
        assert!(dev.allowed_origins.is_empty());
    }
}
