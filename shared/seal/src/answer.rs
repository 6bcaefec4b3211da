//! What a client may believe of the answer to a sealed request. A sealed
//! answer is opened and must authenticate. An unsealed one can only be an
//! error the server gave before it could open the request (`SEAL_*`,
//! `PAYLOAD_TOO_LARGE`, `RATE_LIMITED`, …): it is believed only as an error
//! envelope under a 4xx/5xx status. Anything else is refused, since anyone
//! on the path could have written it.
use serde::Deserialize;

use crate::{ResponseOpener, SealError, SealedResponse};

/// Why an answer to a sealed request was not believed.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The answer is sealed but does not open (tampered, wrong status,
    /// another request's answer).
    #[error(transparent)]
    Sealed(SealError),
    /// An unsealed answer with a status other than 4xx/5xx.
    #[error(
        "refused an unsealed {0} answer to a sealed request: only error answers (4xx/5xx) may \
         come unsealed, so this one may have been written by anyone on the path"
    )]
    UnsealedNotAnError(u16),
    /// An unsealed 4xx/5xx answer that is not the error envelope.
    #[error(
        "refused an unsealed {0} answer to a sealed request: it is not an error envelope \
         ({{\"success\":false,\"error\":{{\"code\":…}}}})"
    )]
    UnsealedNotAnEnvelope(u16),
}

/// Whether a response body is a sealed response (`{"success":…,"data":{"v":…,
/// "nonce":…,"ct":…}}`) rather than an ordinary, unsealed one. Only a
/// classification: whether to believe it is [`ResponseOpener::read`]'s call.
pub fn is_sealed(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        success: bool,
        #[allow(dead_code)]
        data: SealedResponse,
    }
    serde_json::from_slice::<Outer>(body).is_ok()
}

/// Whether an unsealed `body` under `status` is an error envelope.
fn unsealed_error(status: u16, body: &[u8]) -> Result<(), ReadError> {
    #[derive(Deserialize)]
    struct Code {
        #[allow(dead_code)]
        code: String,
    }
    #[derive(Deserialize)]
    struct Envelope {
        success: bool,
        #[allow(dead_code)]
        error: Code,
    }
    if !(400..=599).contains(&status) {
        return Err(ReadError::UnsealedNotAnError(status));
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) if !envelope.success => Ok(()),
        _ => Err(ReadError::UnsealedNotAnEnvelope(status)),
    }
}

impl ResponseOpener {
    /// The answer's inner JSON, if a client may believe it: a sealed `body`
    /// opened ([`ResponseOpener::open`]), or an unsealed error envelope under
    /// a 4xx/5xx `status` as it is.
    pub fn read(&self, status: u16, body: &[u8]) -> Result<Vec<u8>, ReadError> {
        if is_sealed(body) {
            return self.open(status, body).map_err(ReadError::Sealed);
        }
        unsealed_error(status, body)?;
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERROR: &[u8] =
        br#"{"success":false,"message":"Slow down","error":{"code":"RATE_LIMITED"}}"#;

    #[test]
    fn an_unsealed_error_envelope_is_believed_only_under_an_error_status() {
        assert_eq!(unsealed_error(429, ERROR), Ok(()));
        assert_eq!(
            unsealed_error(200, ERROR),
            Err(ReadError::UnsealedNotAnError(200))
        );
        assert_eq!(
            unsealed_error(302, ERROR),
            Err(ReadError::UnsealedNotAnError(302))
        );
    }

    #[test]
    fn an_unsealed_success_or_other_shape_is_refused_even_under_an_error_status() {
        let success = br#"{"success":true,"data":{"tokens":{}}}"#;
        assert_eq!(
            unsealed_error(400, success),
            Err(ReadError::UnsealedNotAnEnvelope(400))
        );
        assert_eq!(
            unsealed_error(500, b"<html>"),
            Err(ReadError::UnsealedNotAnEnvelope(500))
        );
        let no_code = br#"{"success":false,"message":"x"}"#;
        assert_eq!(
            unsealed_error(401, no_code),
            Err(ReadError::UnsealedNotAnEnvelope(401))
        );
    }

    #[test]
    fn only_the_sealed_shape_counts_as_sealed() {
        assert!(!is_sealed(ERROR));
        assert!(is_sealed(
            br#"{"success":true,"data":{"v":1,"nonce":"AA","ct":"AA"}}"#
        ));
    }
}
