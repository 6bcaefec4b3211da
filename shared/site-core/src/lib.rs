//! `sealpost-site-core`: the public site's pages, free of the Workers platform.
//! The site worker hands each page request here ([`Site::serve`]); pages
//! read what they show through the API ([`sealpost_api::Upstream`]) and the
//! site's settings through [`sealpost_ports::SiteDb`], render with compiled
//! templates, and are cached whole through [`sealpost_ports::PageCache`].
#![forbid(unsafe_code)]

pub use sealpost_site_assets as assets;
pub mod data;
pub mod feeds;
pub mod i18n;
pub mod policy;
pub mod render;
pub mod request;
pub mod routing;
pub mod seo;
pub mod session;
pub mod site;
pub mod studio;

pub use render::Settings;
pub use request::PageRequest;
pub use site::{CACHE_MAX_AGE_SECS, CACHE_STATUS, Site};
