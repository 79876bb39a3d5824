//! A unary gRPC client for the per-query tablet calls (Execute, BeginExecute, Commit,
//! Rollback), written directly on `h2`.
//!
//! Why not tonic's `Channel` for these: hyper's HTTP/2 client sends a request's HEADERS and
//! its DATA in two separate socket writes (the body waits in a task of its own for flow-control
//! capacity that the connection task only grants after flushing the HEADERS), and routes each
//! call through a tower buffer task. For a point select that is an extra write here, and an
//! extra wake-up, `epoll_wait` and read on the tablet. Here the request is queued whole
//! (`send_request` then `send_data` with end of stream, no capacity reservation: h2 buffers
//! it) before the connection task runs, so it leaves in one write. Streaming calls
//! (StreamExecute, StreamHealth) stay on tonic.
//!
//! The connection is made on first use and again after it fails; errors reaching the tablet
//! are `Unavailable`, as tonic reports them, so the gateway's retry rules are unchanged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::http::header::{HeaderValue, CONTENT_TYPE, TE};
use ::http::uri::{Authority, PathAndQuery, Scheme};
use ::http::{HeaderMap, Method, Request, Uri};
use bytes::{Bytes, BytesMut};
use h2::client::SendRequest;
use prost::Message;
use tonic::{Code, Status};

/// HTTP/2 windows, as hyper's client sets them: a result of a few MB arrives without
/// waiting for window updates.
const STREAM_WINDOW: u32 = 2 << 20;
const CONNECTION_WINDOW: u32 = 5 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A tablet's unary gRPC client; clones share the connection.
#[derive(Clone)]
pub struct UnaryClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// `host:port`.
    authority: String,
    /// The same, parsed once for every request's URI (None when it does not parse).
    uri_authority: Option<Authority>,
    /// The open connection's request handle, None before the first call or after a failure.
    current: Mutex<Option<SendRequest<Bytes>>>,
    /// Held while connecting, so concurrent first calls make one connection.
    connecting: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for UnaryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnaryClient")
            .field("authority", &self.inner.authority)
            .finish()
    }
}

impl UnaryClient {
    /// A client for the tablet at `host:port`; nothing is connected until the first call.
    pub fn new(authority: String) -> Self {
        UnaryClient {
            inner: Arc::new(Inner {
                uri_authority: Authority::try_from(authority.as_str()).ok(),
                authority,
                current: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Calls `path` (`/queryservice.Query/Execute`) with `request`.
    pub async fn call<Q: Message, R: Message + Default>(
        &self,
        path: &'static str,
        request: &Q,
    ) -> Result<R, Status> {
        let sender = self.sender().await?;
        let mut sender = match sender.ready().await {
            Ok(s) => s,
            Err(e) => {
                self.forget();
                return Err(h2_status(&e));
            }
        };
        let http_request = self.request(path)?;
        let (response, mut body_tx) = sender
            .send_request(http_request, false)
            .map_err(|e| self.failed(&e))?;
        body_tx
            .send_data(proto::frame::encode(request), true)
            .map_err(|e| self.failed(&e))?;
        let response = response.await.map_err(|e| h2_status(&e))?;
        let (parts, mut body) = response.into_parts();
        if parts.status != ::http::StatusCode::OK {
            return Err(Status::unknown(format!(
                "tablet answered HTTP status {}",
                parts.status
            )));
        }
        // A trailers-only response: the status is in the headers.
        check(&parts.headers)?;
        let mut data = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| h2_status(&e))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            if data.len() + chunk.len() > proto::MAX_MESSAGE_SIZE + 5 {
                return Err(Status::resource_exhausted(format!(
                    "response larger than {} bytes",
                    proto::MAX_MESSAGE_SIZE
                )));
            }
            data.extend_from_slice(&chunk);
        }
        match body.trailers().await.map_err(|e| h2_status(&e))? {
            Some(trailers) => check(&trailers)?,
            None => return Err(Status::internal("tablet response without trailers")),
        }
        decode(data.freeze())
    }

    /// The HTTP/2 request of a call: built from parts parsed once (the authority) or static
    /// (path, headers), since this runs for every statement.
    fn request(&self, path: &'static str) -> Result<Request<()>, Status> {
        let bad = |e: &dyn std::fmt::Display| Status::internal(format!("bad request: {e}"));
        let authority = self
            .inner
            .uri_authority
            .clone()
            .ok_or_else(|| bad(&format_args!("tablet address {:?}", self.inner.authority)))?;
        let mut uri = ::http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTP);
        uri.authority = Some(authority);
        uri.path_and_query = Some(PathAndQuery::from_static(path));
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_parts(uri).map_err(|e| bad(&e))?;
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        if let Some(timeout) = crate::timeout::grpc_timeout() {
            let value = HeaderValue::try_from(timeout).map_err(|e| bad(&e))?;
            headers.insert("grpc-timeout", value);
        }
        Ok(request)
    }

    async fn sender(&self) -> Result<SendRequest<Bytes>, Status> {
        if let Some(s) = self.current() {
            return Ok(s);
        }
        let _guard = self.inner.connecting.lock().await;
        if let Some(s) = self.current() {
            return Ok(s);
        }
        let sender = self.connect().await?;
        *self.slot() = Some(sender.clone());
        Ok(sender)
    }

    async fn connect(&self) -> Result<SendRequest<Bytes>, Status> {
        let authority = &self.inner.authority;
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect(authority.as_str()),
        )
        .await
        .map_err(|_| Status::unavailable(format!("connect to {authority}: timed out")))?
        .map_err(|e| Status::unavailable(format!("connect to {authority}: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| Status::unavailable(format!("connect to {authority}: {e}")))?;
        let (sender, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(16 << 10)
            .handshake::<_, Bytes>(tcp)
            .await
            .map_err(|e| Status::unavailable(format!("HTTP/2 handshake with {authority}: {e}")))?;
        let client = Arc::downgrade(&self.inner);
        let authority = authority.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(tablet = %authority, error = %e, "tablet connection closed");
            }
            // The next call reconnects.
            if let Some(inner) = client.upgrade() {
                *inner.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        });
        Ok(sender)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<SendRequest<Bytes>>> {
        self.inner.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<SendRequest<Bytes>> {
        self.slot().clone()
    }

    fn forget(&self) {
        *self.slot() = None;
    }

    fn failed(&self, e: &h2::Error) -> Status {
        if e.is_io() || e.is_go_away() {
            self.forget();
        }
        h2_status(e)
    }
}

/// The one message of a unary response body.
fn decode<R: Message + Default>(data: Bytes) -> Result<R, Status> {
    proto::frame::decode(data).map_err(|e| Status::internal(format!("bad tablet response: {e}")))
}

/// The gRPC status in `headers`: Ok(()) when absent or OK.
fn check(headers: &HeaderMap) -> Result<(), Status> {
    let Some(code) = headers.get("grpc-status") else {
        return Ok(());
    };
    let code = Code::from_bytes(code.as_bytes());
    if code == Code::Ok {
        return Ok(());
    }
    let message = headers
        .get("grpc-message")
        .map(|m| percent_decode(m.as_bytes()))
        .unwrap_or_default();
    Err(Status::new(code, message))
}

/// grpc-message's percent-encoding undone (invalid escapes kept as they are).
fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A transport error as tonic reports it: not reaching the tablet is `Unavailable`.
fn h2_status(e: &h2::Error) -> Status {
    if e.is_io() || e.is_go_away() || e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        Status::unavailable(format!("tablet connection: {e}"))
    } else if e.reason() == Some(h2::Reason::CANCEL) {
        Status::cancelled(format!("tablet connection: {e}"))
    } else {
        Status::unknown(format!("tablet connection: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_trailers() {
        let mut h = HeaderMap::new();
        assert!(check(&h).is_ok());
        h.insert("grpc-status", "0".parse().unwrap());
        assert!(check(&h).is_ok());
        h.insert("grpc-status", "9".parse().unwrap());
        h.insert(
            "grpc-message",
            "disallowed%20due to rule: 100%25 %zz%".parse().unwrap(),
        );
        let st = check(&h).unwrap_err();
        assert_eq!(st.code(), Code::FailedPrecondition);
        assert_eq!(st.message(), "disallowed due to rule: 100% %zz%");
    }
}
