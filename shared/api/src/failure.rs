//! [`Failure`]: why a route did not answer normally. Either an answer meant
//! for the client ([`ApiError`]), or an internal failure — a port, a
//! cryptographic operation, the deployment's configuration, a value that
//! could not be encoded, the runtime itself — that the boundary logs under
//! the request id and answers `INTERNAL` with that id. Every core, adapter
//! and worker returns it; [`Failure::into_response`] is the one mapping to
//! HTTP and [`Failure::cause`] the one text that goes to the log.
use sealpost_ports::PortError;

use crate::error::ApiError;
use crate::response::ApiResponse;

/// Why a route did not answer normally.
#[derive(Debug)]
pub enum Failure {
    /// An answer for the client (its own status and envelope).
    Api(ApiError),
    /// A port failed (database, KV, limiter, a binding, randomness).
    Port(PortError),
    /// A cryptographic operation that cannot fail on well-formed input did
    /// (encryption at rest, key wrapping, password hashing, sealing).
    Crypto(String),
    /// A secret, variable or binding the deployment needs is missing or
    /// invalid.
    Config(String),
    /// A value could not be encoded, or stored data could not be read back.
    Codec(String),
    /// The runtime refused an operation (a request, a header, a fetch).
    Platform(String),
    /// An internal failure whose answer is already built (inside a sealed
    /// exchange the `INTERNAL` envelope is sealed like any answer): the
    /// boundary logs `cause` and sends `answer` as it is.
    Answered {
        answer: ApiResponse,
        cause: Box<Failure>,
    },
}

impl Failure {
    /// The client's answer: the error's own envelope, or `INTERNAL` carrying
    /// `request_id` for every internal failure.
    pub fn into_response(self, request_id: &str) -> ApiResponse {
        match self {
            Failure::Api(e) => e.into_response(),
            Failure::Answered { answer, .. } => answer,
            _ => ApiError::internal(Some(request_id.to_owned())).into_response(),
        }
    }

    /// What the log keeps of an internal failure; `None` for an answer meant
    /// for the client. Never holds bound values or secrets (ports and
    /// callers put only fixed texts and the platform's own messages here).
    pub fn cause(&self) -> Option<String> {
        match self {
            Failure::Api(_) => None,
            Failure::Port(e) => Some(e.to_string()),
            Failure::Crypto(why) => Some(format!("crypto failure: {why}")),
            Failure::Config(why) => Some(format!("not configured: {why}")),
            Failure::Codec(why) => Some(format!("codec failure: {why}")),
            Failure::Platform(why) => Some(format!("platform failure: {why}")),
            Failure::Answered { cause, .. } => cause.cause(),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<PortError> for Failure {
    fn from(e: PortError) -> Self {
        Failure::Port(e)
    }
}

/// What a route returns.
pub type Outcome = Result<ApiResponse, Failure>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_client_answer_keeps_its_status_and_leaves_nothing_to_log() {
        let f = Failure::from(ApiError::new(ErrorCode::UpdateConflict));
        assert_eq!(f.cause(), None);
        assert_eq!(f.into_response("rid").status, 409);
    }

    #[test]
    fn an_internal_failure_answers_internal_with_the_request_id_and_logs_its_cause() {
        let f = Failure::Config("VISITOR_KEY is missing".into());
        assert_eq!(
            f.cause().as_deref(),
            Some("not configured: VISITOR_KEY is missing")
        );
        let resp = f.into_response("rid-7");
        assert_eq!(resp.status, 500);
        let body = resp.body_json().unwrap();
        assert_eq!(body["error"]["code"], "INTERNAL");
        assert_eq!(body["error"]["requestId"], "rid-7");
        assert!(!String::from_utf8_lossy(&resp.body).contains("VISITOR_KEY"));
    }

    #[test]
    fn an_answered_failure_sends_its_answer_and_logs_the_inner_cause() {
        let f = Failure::Answered {
            answer: ApiResponse::empty(200),
            cause: Box::new(Failure::Crypto("seal".into())),
        };
        assert_eq!(f.cause().as_deref(), Some("crypto failure: seal"));
        assert_eq!(f.into_response("rid").status, 200);
    }
}
