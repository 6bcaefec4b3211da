//! [`Fault`]: why a domain route did not answer normally — an answer for the
//! client ([`ApiError`]), or a platform failure ([`PortError`]) that the
//! worker logs and answers `INTERNAL` with a request id. Every domain core
//! returns it; `sealpost-cf` maps it to HTTP once.
use sealpost_ports::PortError;

use crate::error::ApiError;

#[derive(Debug)]
pub enum Fault {
    Api(ApiError),
    Port(PortError),
}

impl From<ApiError> for Fault {
    fn from(e: ApiError) -> Self {
        Fault::Api(e)
    }
}

impl From<PortError> for Fault {
    fn from(e: PortError) -> Self {
        Fault::Port(e)
    }
}
