//! The WebSocket client of the e2e suite: an upgrade to the gateway over a
//! plain TCP stream, from a client address of its own unless told otherwise.
use std::net::TcpStream;

use crate::fresh::unique_ip;
use crate::http::{CALL_TIMEOUT, CLIENT_IP_HEADER};

/// A WebSocket to the stack.
pub type WebSocket = tungstenite::WebSocket<TcpStream>;

/// [`Stack::ws_connect`](crate::Stack::ws_connect) to a gateway on 127.0.0.1:`port` (also for the
/// benches, which drive a stack they did not start).
#[allow(
    clippy::result_large_err,
    reason = "tungstenite's own handshake error, unboxed, so callers can match on it"
)]
pub fn ws_connect_to(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<WebSocket, tungstenite::Error> {
    use tungstenite::client::IntoClientRequest;
    use tungstenite::handshake::HandshakeError;
    use tungstenite::http::{HeaderName, HeaderValue};

    let mut request = format!("ws://127.0.0.1:{port}{path}").into_client_request()?;
    let mut all: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(CLIENT_IP_HEADER))
    {
        all.push((CLIENT_IP_HEADER, unique_ip()));
    }
    for (name, value) in all {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| tungstenite::Error::HttpFormat(e.into()))?;
        let value =
            HeaderValue::from_str(&value).map_err(|e| tungstenite::Error::HttpFormat(e.into()))?;
        request.headers_mut().insert(name, value);
    }
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(CALL_TIMEOUT))?;
    stream.set_write_timeout(Some(CALL_TIMEOUT))?;
    match tungstenite::client(request, stream) {
        Ok((socket, _response)) => Ok(socket),
        Err(HandshakeError::Failure(e)) => Err(e),
        Err(HandshakeError::Interrupted(_)) => Err(tungstenite::Error::Io(std::io::Error::other(
            "handshake interrupted on a blocking socket",
        ))),
    }
}
