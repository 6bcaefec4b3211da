//! `sealpost-site`: the public site's pages, free of the Workers platform.
//! The site worker hands each page request here; pages read what they show
//! through the API ([`sealpost_api::Upstream`]) and the site's settings
//! through [`sealpost_ports::SiteDb`], render with compiled templates, and
//! are cached whole through [`sealpost_ports::PageCache`].
#![forbid(unsafe_code)]
