//! `sealpost-api`: the platform-free HTTP contract shared by the gateway and every
//! domain worker — the request every core receives ([`ApiRequest`]), the one
//! failure type ([`Failure`]), the error catalogue ([`ErrorCode`], [`ApiError`])
//! and its envelope ([`envelope`]), response envelopes ([`ApiResponse`]), request
//! body and query rules ([`body`], [`Query`], paging), field validation ([`Validator`]), the validated value types
//! every service shares ([`Email`], [`Locale`]), the public route catalogue
//! ([`routes`]), the site's page namespace ([`pages`]), the API as seen from inside
//! the deployment ([`Upstream`]) and the `/health` shape ([`health`]).
//!
//! Nothing here depends on the Workers runtime; adapters convert [`ApiResponse`]
//! and feed raw method, path, headers and bytes in.

#![forbid(unsafe_code)]

pub mod account;
pub mod body;
pub mod campaigns;
pub mod email;
pub mod envelope;
pub mod error;
pub mod failure;
pub mod health;
pub mod locale;
pub mod method;
pub mod pages;
pub mod posts;
pub mod query;
pub mod request;
pub mod response;
pub mod routes;
pub mod slug;
pub mod subscribers;
pub mod upstream;
pub mod validate;

pub use email::{Email, EmailError};
pub use error::{ApiError, ErrorCode, FieldError};
pub use failure::{Failure, Outcome};
pub use health::{HealthReport, Indicator};
pub use locale::Locale;
pub use method::Method;
pub use query::{KeysetPaging, OffsetPaging, PageInfo, Query};
pub use request::ApiRequest;
pub use response::ApiResponse;
pub use routes::{
    BodyPolicy, Params, Resolution, RouteId, RouteSpec, Service, resolve, routes_for,
};
pub use upstream::Upstream;
pub use validate::Validator;
