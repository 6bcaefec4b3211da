//! The route catalogue: every public route with its method, pattern, owning
//! [`Service`] and [`BodyPolicy`], in the order of `Allow` headers, and the
//! [`RouteId`] that names each one between the gateway and a domain worker.

use crate::method::Method;
// Short names for the catalogue table.
use BodyPolicy::{FormOrJson, None as NoBody, Sealed};
use Method::{Delete, Get, Patch, Post, Put};
use RouteId as R;
use Service::{Auth, Campaigns, Comments, Content, Gateway};

/// Largest accepted sealed envelope, in bytes (the edge-seal contract).
pub const SEALED_MAX_BYTES: usize = 64 * 1024;

const KIB: usize = 1024;

/// The worker that owns a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Gateway,
    Auth,
    Content,
    Comments,
    Campaigns,
    /// The public site's pages (`crate::pages`): no catalogue route.
    Site,
}

impl Service {
    /// The four domain workers behind the gateway.
    pub const DOMAIN: [Service; 4] = [
        Service::Auth,
        Service::Content,
        Service::Comments,
        Service::Campaigns,
    ];

    /// Every worker behind the gateway: the domain workers and the site,
    /// whose health `/health` reports.
    pub const BEHIND_GATEWAY: [Service; 5] = [
        Service::Auth,
        Service::Content,
        Service::Comments,
        Service::Campaigns,
        Service::Site,
    ];

    /// Every service.
    pub const ALL: [Service; 6] = [
        Service::Gateway,
        Service::Auth,
        Service::Content,
        Service::Comments,
        Service::Campaigns,
        Service::Site,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Auth => "auth",
            Service::Content => "content",
            Service::Comments => "comments",
            Service::Campaigns => "campaigns",
            Service::Site => "site",
        }
    }

    /// Inverse of [`Service::as_str`].
    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|svc| svc.as_str() == s)
    }
}

/// What request body a route takes (the edge checks it before the body
/// crosses to the owning worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyPolicy {
    /// No body is read.
    None,
    /// `application/json`, at most `max_bytes`; when not `required`, an empty body
    /// is accepted too.
    Json { max_bytes: usize, required: bool },
    /// A sealed envelope (the edge-seal contract), at most [`SEALED_MAX_BYTES`].
    Sealed,
    /// `application/x-www-form-urlencoded` or `application/json`, at most `max_bytes`.
    FormOrJson { max_bytes: usize },
}

impl BodyPolicy {
    /// Largest accepted sealed envelope, in bytes.
    pub const SEALED_MAX_BYTES: usize = SEALED_MAX_BYTES;

    /// The body size limit in bytes (`None` → 0).
    pub fn max_bytes(&self) -> usize {
        match *self {
            BodyPolicy::None => 0,
            BodyPolicy::Json { max_bytes, .. } | BodyPolicy::FormOrJson { max_bytes } => max_bytes,
            BodyPolicy::Sealed => SEALED_MAX_BYTES,
        }
    }
}

macro_rules! route_ids {
    ($($(#[$doc:meta])* $id:ident),+ $(,)?) => {
        /// One variant per route of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RouteId { $($(#[$doc])* $id,)+ }

        impl RouteId {
            /// Every route id, in declaration order.
            pub const ALL: &'static [RouteId] = &[$(RouteId::$id,)+];

            /// The variant's name (what the gateway tells a domain worker).
            pub fn as_str(self) -> &'static str {
                match self { $(RouteId::$id => stringify!($id),)+ }
            }
        }
    };
}

route_ids! {
    Health,
    AuthKeys,
    AuthJwks,
    AuthSignup,
    AuthLogin,
    AuthLoginMfa,
    AuthRefresh,
    AuthLogout,
    AuthMe,
    AuthSessions,
    AuthSessionRevoke,
    AuthTotpSetup,
    AuthTotpEnable,
    AuthTotpDisable,
    AuthPassword,
    AdminUsers,
    AdminUserRoles,
    AdminAudit,
    PostsList,
    PostGet,
    PostView,
    PostRate,
    MeActivity,
    AdminPostsList,
    AdminPostCreate,
    AdminPostUpdate,
    AdminPostPublish,
    AdminPostSchedule,
    AdminPostUnpublish,
    AdminPostDelete,
    /// Beyond the contract (docs/api.md): one post as an editor sees it.
    AdminPostGet,
    /// Beyond the contract (docs/api.md): Markdown rendered as the site will show it.
    AdminPreview,
    CommentsList,
    CommentCreate,
    CommentsLive,
    AdminCommentDelete,
    Subscribe,
    SubscribeConfirmPage,
    SubscribeConfirm,
    UnsubscribePage,
    Unsubscribe,
    AdminSubscribers,
    /// Beyond the contract (docs/api.md): the subscribers as CSV, and an
    /// import of people who agreed elsewhere.
    AdminSubscribersExport,
    AdminSubscribersImport,
    AdminCampaignCreate,
    AdminCampaignSend,
    AdminCampaignGet,
    /// Beyond the contract (docs/api.md): the campaigns, newest first.
    AdminCampaignsList,
    /// Beyond the contract (docs/api.md): change a draft or scheduled
    /// campaign, send a test of one, cancel one.
    AdminCampaignUpdate,
    AdminCampaignTest,
    AdminCampaignCancel,
    DevMail,
    DevMailFaults,
    DevSubscribers,
}

impl RouteId {
    /// Inverse of [`RouteId::as_str`].
    pub fn parse(name: &str) -> Option<RouteId> {
        RouteId::ALL.iter().copied().find(|id| id.as_str() == name)
    }

    /// This route's catalogue entry.
    pub fn spec(self) -> &'static RouteSpec {
        ROUTES
            .iter()
            .find(|r| r.id == self)
            // Guaranteed by the test `every_route_id_has_exactly_one_spec`.
            .expect("every RouteId has a RouteSpec")
    }
}

/// One route of the catalogue.
#[derive(Debug)]
pub struct RouteSpec {
    pub id: RouteId,
    pub method: Method,
    pub pattern: &'static str,
    pub service: Service,
    pub body: BodyPolicy,
    /// Exists only when the dev flag is on (404 otherwise).
    pub dev_only: bool,
}

pub(super) const fn route(
    id: RouteId,
    method: Method,
    pattern: &'static str,
    service: Service,
    body: BodyPolicy,
) -> RouteSpec {
    RouteSpec {
        id,
        method,
        pattern,
        service,
        body,
        dev_only: false,
    }
}

const fn json(max_bytes: usize) -> BodyPolicy {
    BodyPolicy::Json {
        max_bytes,
        required: true,
    }
}

const fn optional_json(max_bytes: usize) -> BodyPolicy {
    BodyPolicy::Json {
        max_bytes,
        required: false,
    }
}

/// Every public route of the API contract, plus `GET /health` and the dev-only `/__dev/…` routes.
/// The order is the order of `Allow` headers.
#[rustfmt::skip]
pub static ROUTES: &[RouteSpec] = &[
    route(R::Health,               Get,    "/health",                               Gateway,   NoBody),
    // Auth
    route(R::AuthKeys,             Get,    "/auth/keys",                            Auth,      NoBody),
    route(R::AuthJwks,             Get,    "/auth/jwks",                            Auth,      NoBody),
    route(R::AuthSignup,           Post,   "/auth/signup",                          Auth,      Sealed),
    route(R::AuthLogin,            Post,   "/auth/login",                           Auth,      Sealed),
    route(R::AuthLoginMfa,         Post,   "/auth/login/mfa",                       Auth,      Sealed),
    route(R::AuthRefresh,          Post,   "/auth/refresh",                         Auth,      Sealed),
    route(R::AuthLogout,           Post,   "/auth/logout",                          Auth,      optional_json(KIB)),
    route(R::AuthMe,               Get,    "/auth/me",                              Auth,      NoBody),
    route(R::AuthSessions,         Get,    "/auth/sessions",                        Auth,      NoBody),
    route(R::AuthSessionRevoke,    Delete, "/auth/sessions/{id}",                   Auth,      NoBody),
    route(R::AuthTotpSetup,        Post,   "/auth/mfa/totp/setup",                  Auth,      Sealed),
    route(R::AuthTotpEnable,       Post,   "/auth/mfa/totp/enable",                 Auth,      Sealed),
    route(R::AuthTotpDisable,      Post,   "/auth/mfa/totp/disable",                Auth,      Sealed),
    route(R::AuthPassword,         Post,   "/auth/password",                        Auth,      Sealed),
    route(R::AdminUsers,           Get,    "/admin/users",                          Auth,      NoBody),
    route(R::AdminUserRoles,       Put,    "/admin/users/{id}/roles",               Auth,      json(4 * KIB)),
    route(R::AdminAudit,           Get,    "/admin/audit",                          Auth,      NoBody),
    // Content
    route(R::PostsList,            Get,    "/posts",                                Content,   NoBody),
    route(R::PostGet,              Get,    "/posts/{slug}",                         Content,   NoBody),
    route(R::PostView,             Post,   "/posts/{id}/views",                     Content,   json(KIB)),
    route(R::PostRate,             Put,    "/posts/{id}/rating",                    Content,   json(KIB)),
    route(R::MeActivity,           Get,    "/me/activity",                          Content,   NoBody),
    route(R::AdminPostsList,       Get,    "/admin/posts",                          Content,   NoBody),
    route(R::AdminPostCreate,      Post,   "/admin/posts",                          Content,   json(512 * KIB)),
    route(R::AdminPostUpdate,      Patch,  "/admin/posts/{id}",                     Content,   json(512 * KIB)),
    route(R::AdminPostPublish,     Post,   "/admin/posts/{id}/publish",             Content,   optional_json(KIB)),
    route(R::AdminPostSchedule,    Post,   "/admin/posts/{id}/schedule",            Content,   json(KIB)),
    route(R::AdminPostUnpublish,   Post,   "/admin/posts/{id}/unpublish",           Content,   optional_json(KIB)),
    route(R::AdminPostDelete,      Delete, "/admin/posts/{id}",                     Content,   NoBody),
    route(R::AdminPostGet,         Get,    "/admin/posts/{id}",                     Content,   NoBody),
    route(R::AdminPreview,         Post,   "/admin/preview",                        Content,   json(512 * KIB)),
    // Comments
    route(R::CommentsList,         Get,    "/posts/{id}/comments",                  Comments,  NoBody),
    route(R::CommentCreate,        Post,   "/posts/{id}/comments",                  Comments,  json(16 * KIB)),
    route(R::CommentsLive,         Get,    "/posts/{id}/comments/live",             Comments,  NoBody),
    route(R::AdminCommentDelete,   Delete, "/admin/comments/{postId}/{commentId}",  Comments,  NoBody),
    // Campaigns
    route(R::Subscribe,            Post,   "/subscribe",                            Campaigns, json(4 * KIB)),
    route(R::SubscribeConfirmPage, Get,    "/subscribe/confirm",                    Campaigns, NoBody),
    route(R::SubscribeConfirm,     Post,   "/subscribe/confirm",                    Campaigns, FormOrJson { max_bytes: 4 * KIB }),
    route(R::UnsubscribePage,      Get,    "/unsubscribe",                          Campaigns, NoBody),
    route(R::Unsubscribe,          Post,   "/unsubscribe",                          Campaigns, FormOrJson { max_bytes: 4 * KIB }),
    route(R::AdminSubscribers,     Get,    "/admin/subscribers",                    Campaigns, NoBody),
    route(R::AdminSubscribersExport, Get,  "/admin/subscribers/export",             Campaigns, NoBody),
    route(R::AdminSubscribersImport, Post, "/admin/subscribers/import",             Campaigns, json(256 * KIB)),
    route(R::AdminCampaignCreate,  Post,   "/admin/campaigns",                      Campaigns, json(512 * KIB)),
    route(R::AdminCampaignSend,    Post,   "/admin/campaigns/{id}/send",            Campaigns, optional_json(KIB)),
    route(R::AdminCampaignGet,     Get,    "/admin/campaigns/{id}",                 Campaigns, NoBody),
    route(R::AdminCampaignsList,   Get,    "/admin/campaigns",                      Campaigns, NoBody),
    route(R::AdminCampaignUpdate,  Patch,  "/admin/campaigns/{id}",                 Campaigns, json(512 * KIB)),
    route(R::AdminCampaignTest,    Post,   "/admin/campaigns/{id}/test",            Campaigns, json(KIB)),
    route(R::AdminCampaignCancel,  Post,   "/admin/campaigns/{id}/cancel",          Campaigns, optional_json(KIB)),
    RouteSpec { dev_only: true, ..route(R::DevMail, Get, "/__dev/mail", Campaigns, NoBody) },
    RouteSpec { dev_only: true, ..route(R::DevMailFaults, Put, "/__dev/mail/faults", Campaigns, json(KIB)) },
    RouteSpec { dev_only: true, ..route(R::DevSubscribers, Post, "/__dev/subscribers", Campaigns, json(KIB)) },
];

/// Every route owned by `service`, in catalogue order.
pub fn routes_for(service: Service) -> impl Iterator<Item = &'static RouteSpec> {
    ROUTES.iter().filter(move |r| r.service == service)
}

#[cfg(test)]
mod tests {
    use super::super::matching::param_name;
    use super::super::test_support::found;
    use super::*;
    use std::collections::HashSet;

    /// A concrete path for a pattern, with `x1`, `x2`… for parameters.
    fn sample_path(pattern: &str) -> String {
        let mut n = 0;
        pattern
            .split('/')
            .map(|s| {
                if param_name(s).is_some() {
                    n += 1;
                    format!("x{n}")
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn catalogue_is_well_formed() {
        let mut seen = HashSet::new();
        for r in ROUTES {
            assert!(r.pattern.starts_with('/'), "{}", r.pattern);
            assert!(
                r.pattern.len() > 1 && !r.pattern.ends_with('/'),
                "{}",
                r.pattern
            );
            for seg in r.pattern.split('/').skip(1) {
                assert!(!seg.is_empty(), "{}: empty segment", r.pattern);
                match param_name(seg) {
                    Some(name) => assert!(
                        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                        "{}: bad parameter {seg}",
                        r.pattern
                    ),
                    None => assert!(
                        !seg.contains(['{', '}', '%', '?', '#']),
                        "{}: bad literal {seg}",
                        r.pattern
                    ),
                }
            }
            // No two routes share (method, pattern), even with differently named parameters.
            let shape: Vec<&str> = r
                .pattern
                .split('/')
                .map(|s| if param_name(s).is_some() { "{}" } else { s })
                .collect();
            assert!(
                seen.insert((r.method, shape)),
                "duplicate route {} {}",
                r.method,
                r.pattern
            );
        }
    }

    #[test]
    fn every_route_id_has_exactly_one_spec() {
        for &id in RouteId::ALL {
            assert_eq!(ROUTES.iter().filter(|r| r.id == id).count(), 1, "{id:?}");
            assert_eq!(id.spec().id, id);
        }
        assert_eq!(ROUTES.len(), RouteId::ALL.len());
    }

    #[test]
    fn every_route_resolves_to_itself() {
        for r in ROUTES {
            let (got, params) = found(r.method, &sample_path(r.pattern));
            assert_eq!(got.id, r.id, "{} {}", r.method, r.pattern);
            let names: Vec<&str> = r.pattern.split('/').filter_map(param_name).collect();
            assert_eq!(params.len(), names.len());
            for (i, name) in names.iter().enumerate() {
                assert_eq!(params.get(name), Some(format!("x{}", i + 1).as_str()));
            }
        }
    }

    #[test]
    fn every_contract_route_is_in_the_catalogue() {
        // The API contract, route by route, then the additions docs/api.md lists.
        let contract = [
            (Get, "/health"),
            (Get, "/auth/keys"),
            (Get, "/auth/jwks"),
            (Post, "/auth/signup"),
            (Post, "/auth/login"),
            (Post, "/auth/login/mfa"),
            (Post, "/auth/refresh"),
            (Post, "/auth/logout"),
            (Get, "/auth/me"),
            (Get, "/auth/sessions"),
            (Delete, "/auth/sessions/{id}"),
            (Post, "/auth/mfa/totp/setup"),
            (Post, "/auth/mfa/totp/enable"),
            (Post, "/auth/mfa/totp/disable"),
            (Post, "/auth/password"),
            (Get, "/admin/users"),
            (Put, "/admin/users/{id}/roles"),
            (Get, "/admin/audit"),
            (Get, "/posts"),
            (Get, "/posts/{slug}"),
            (Post, "/posts/{id}/views"),
            (Put, "/posts/{id}/rating"),
            (Get, "/me/activity"),
            (Get, "/admin/posts"),
            (Post, "/admin/posts"),
            (Patch, "/admin/posts/{id}"),
            (Post, "/admin/posts/{id}/publish"),
            (Post, "/admin/posts/{id}/schedule"),
            (Post, "/admin/posts/{id}/unpublish"),
            (Delete, "/admin/posts/{id}"),
            (Get, "/admin/posts/{id}"),
            (Post, "/admin/preview"),
            (Get, "/posts/{id}/comments"),
            (Post, "/posts/{id}/comments"),
            (Get, "/posts/{id}/comments/live"),
            (Delete, "/admin/comments/{postId}/{commentId}"),
            (Post, "/subscribe"),
            (Get, "/subscribe/confirm"),
            (Post, "/subscribe/confirm"),
            (Get, "/unsubscribe"),
            (Post, "/unsubscribe"),
            (Get, "/admin/subscribers"),
            (Get, "/admin/subscribers/export"),
            (Post, "/admin/subscribers/import"),
            (Post, "/admin/campaigns"),
            (Post, "/admin/campaigns/{id}/send"),
            (Get, "/admin/campaigns/{id}"),
            (Get, "/admin/campaigns"),
            (Patch, "/admin/campaigns/{id}"),
            (Post, "/admin/campaigns/{id}/test"),
            (Post, "/admin/campaigns/{id}/cancel"),
            (Get, "/__dev/mail"),
            (Put, "/__dev/mail/faults"),
            (Post, "/__dev/subscribers"),
        ];
        for (method, pattern) in contract {
            let (route, _) = found(method, &sample_path(pattern));
            assert_eq!(route.pattern, pattern, "{method} {pattern}");
        }
        assert_eq!(contract.len(), ROUTES.len());
    }

    #[test]
    fn body_policies_follow_the_contract() {
        let sealed: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.body == BodyPolicy::Sealed)
            .map(|r| r.pattern)
            .collect();
        assert_eq!(
            sealed,
            vec![
                "/auth/signup",
                "/auth/login",
                "/auth/login/mfa",
                "/auth/refresh",
                "/auth/mfa/totp/setup",
                "/auth/mfa/totp/enable",
                "/auth/mfa/totp/disable",
                "/auth/password",
            ]
        );
        for r in ROUTES {
            if matches!(r.method, Get | Delete) {
                assert_eq!(r.body, BodyPolicy::None, "{} {}", r.method, r.pattern);
            } else {
                assert_ne!(r.body, BodyPolicy::None, "{} {}", r.method, r.pattern);
            }
        }
        assert_eq!(
            RouteId::AuthLogout.spec().body,
            BodyPolicy::Json {
                max_bytes: 1024,
                required: false
            }
        );
        assert_eq!(
            RouteId::AdminPostCreate.spec().body,
            BodyPolicy::Json {
                max_bytes: 512 * 1024,
                required: true
            }
        );
        assert_eq!(
            RouteId::CommentCreate.spec().body,
            BodyPolicy::Json {
                max_bytes: 16 * 1024,
                required: true
            }
        );
        assert_eq!(
            RouteId::Unsubscribe.spec().body,
            BodyPolicy::FormOrJson { max_bytes: 4096 }
        );
        assert_eq!(BodyPolicy::Sealed.max_bytes(), 65536);
        assert_eq!(BodyPolicy::None.max_bytes(), 0);
        assert_eq!(RouteId::AdminUserRoles.spec().body.max_bytes(), 4096);
    }

    #[test]
    fn services_own_their_routes() {
        assert_eq!(
            routes_for(Gateway).map(|r| r.id).collect::<Vec<_>>(),
            vec![RouteId::Health]
        );
        assert!(
            routes_for(Auth)
                .all(|r| r.pattern.starts_with("/auth/") || r.pattern.starts_with("/admin/"))
        );
        assert!(routes_for(Comments).all(|r| r.pattern.contains("/comments")));
        let total: usize = Service::ALL.iter().map(|&s| routes_for(s).count()).sum();
        assert_eq!(total, ROUTES.len());
        for s in Service::DOMAIN {
            assert!(routes_for(s).count() > 0, "{s:?}");
            assert_ne!(s, Gateway);
        }
        for s in Service::ALL {
            assert_eq!(Service::parse(s.as_str()), Some(s));
        }
        let dev: Vec<RouteId> = ROUTES.iter().filter(|r| r.dev_only).map(|r| r.id).collect();
        assert_eq!(
            dev,
            vec![
                RouteId::DevMail,
                RouteId::DevMailFaults,
                RouteId::DevSubscribers
            ]
        );
        assert_eq!(RouteId::DevMail.spec().service, Campaigns);
    }
}
