//! The tablet's gRPC server, written on `h2` directly.
//!
//! The calls vtgate makes for statements (Execute, BeginExecute, Begin, Commit, Rollback) are
//! decoded, run and answered here, inside the connection's own task (no task per call): the
//! request's one message is read from the stream, handed to [`QueryService`], and the answer
//! queued as HEADERS, DATA and trailers in one go, so the connection writes it in one write.
//! Through tonic's server each such call also passed hyper's connection and body types,
//! tower's layers, axum's router and tonic's streaming codec: with h2 they were ~40% of the
//! tablet's CPU per point select. vtgate's side of these calls is written the same way
//! (`vtgate::unary`).
//!
//! A call's `grpc-timeout` becomes the deadline of the statements it runs ([`deadline`]),
//! tonic's calls included (StreamExecute).
//!
//! Every other call (StreamExecute, StreamHealth, VStream, the TabletManager service, and
//! any path we do not serve) goes to tonic's generated services, unchanged, through
//! `to_tonic`: the h2 request becomes an `http::Request` whose body reads the stream, and
//! the response's frames are sent back as the peer's flow control allows.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use prost::Message;
use proto::queryservice::query_server::Query;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::codegen::Service;
use tonic::service::Routes;
use tonic::Status;

use crate::deadline;
use crate::query_service::QueryService;

/// HTTP/2 windows, as hyper's server sets them.
const WINDOW: u32 = 1 << 20;

/// What the server answers with.
pub struct Services {
    /// Answers the per-statement calls directly.
    pub query: QueryService,
    /// Every service, for the other calls.
    pub routes: Routes,
}

/// Serves gRPC on `listener` until `shutdown` turns true, then stops accepting, tells each
/// connection's client to go away and returns once the calls under way have finished.
pub async fn serve(listener: TcpListener, services: Services, mut shutdown: watch::Receiver<bool>) {
    let services = Arc::new(services);
    let told = shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    connections.spawn(connection(socket, services.clone(), told.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, as tonic's listener does.
                    tracing::warn!(error = %e, "gRPC accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next() => {}
            () = stopped(&mut shutdown) => break,
        }
    }
    while connections.join_next().await.is_some() {}
}

/// Resolves once the server is told to stop (or whoever could tell it is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// One client connection, until it closes (or, after shutdown, its calls end).
async fn connection(
    socket: TcpStream,
    services: Arc<Services>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Nagle would hold each small response back (~40 ms per call).
    let _ = socket.set_nodelay(true);
    let handshake = h2::server::Builder::new()
        .initial_window_size(WINDOW)
        .initial_connection_window_size(WINDOW)
        .max_frame_size(16 << 10)
        .max_header_list_size(16 << 10)
        .handshake::<_, Bytes>(socket);
    let mut conn = match handshake.await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::debug!(error = %e, "HTTP/2 handshake failed");
            return;
        }
    };
    // The per-statement calls run inside this task, beside the connection: a call's answer
    // is flushed by the same task that ran it, and no worker thread is woken to pick a new
    // task up. Other calls (streams, tonic's services) are long-lived and get a task each.
    let mut calls = FuturesUnordered::new();
    let mut stopping = false;
    loop {
        tokio::select! {
            Some(()) = calls.next(), if !calls.is_empty() => {}
            next = conn.accept() => match next {
                Some(Ok((request, respond))) => {
                    if is_statement_call(request.uri().path()) {
                        calls.push(isolated(call(services.clone(), request, respond)));
                    } else {
                        tokio::spawn(call(services.clone(), request, respond));
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "gRPC connection failed");
                    break;
                }
                None => break,
            },
            () = stopped(&mut shutdown), if !stopping => {
                stopping = true;
                conn.graceful_shutdown();
            }
        }
    }
    // The client is gone; the statements it sent still run to their end (see [`call`]).
    while calls.next().await.is_some() {}
}

/// A call run inside the connection's task, where a panic would end every other call of
/// the connection: it ends only this one (as a task of its own would).
async fn isolated(call: impl Future<Output = ()>) {
    if std::panic::AssertUnwindSafe(call)
        .catch_unwind()
        .await
        .is_err()
    {
        tracing::error!("a gRPC call panicked");
    }
}

const EXECUTE: &str = "/queryservice.Query/Execute";
const BEGIN_EXECUTE: &str = "/queryservice.Query/BeginExecute";
const BEGIN: &str = "/queryservice.Query/Begin";
const COMMIT: &str = "/queryservice.Query/Commit";
const ROLLBACK: &str = "/queryservice.Query/Rollback";

/// Whether `path` is one of the calls answered here rather than by tonic.
fn is_statement_call(path: &str) -> bool {
    matches!(path, EXECUTE | BEGIN_EXECUTE | BEGIN | COMMIT | ROLLBACK)
}

/// One call, by its path. A unary call runs to its end even when the client resets it (as
/// vtgate does when its own client goes away): the statement is MariaDB's by then, and the
/// tablet's count of calls under way (which a demotion waits for) stays true.
async fn call(services: Arc<Services>, request: Request<RecvStream>, respond: SendResponse<Bytes>) {
    let query = &services.query;
    let outcome = match request.uri().path() {
        EXECUTE => unary(request, respond, |r| query.execute(r)).await,
        BEGIN_EXECUTE => unary(request, respond, |r| query.begin_execute(r)).await,
        BEGIN => unary(request, respond, |r| query.begin(r)).await,
        COMMIT => unary(request, respond, |r| query.commit(r)).await,
        ROLLBACK => unary(request, respond, |r| query.rollback(r)).await,
        _ => to_tonic(services.routes.clone(), request, respond).await,
    };
    if let Err(e) = outcome {
        // The client went away or reset the call: nobody is left to tell.
        tracing::debug!(error = %e, "gRPC call ended early");
    }
}

/// A unary call answered by `run`.
async fn unary<Q, R, F, Fut>(
    request: Request<RecvStream>,
    respond: SendResponse<Bytes>,
    run: F,
) -> Result<(), h2::Error>
where
    Q: Message + Default,
    R: Message,
    F: FnOnce(tonic::Request<Q>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<R>, Status>>,
{
    let deadline = deadline::of_call(request.headers());
    let answer = match read_message::<Q>(request.into_body()).await {
        Ok(message) => deadline::scope(deadline, run(tonic::Request::new(message)))
            .await
            .map(tonic::Response::into_inner),
        Err(status) => Err(status),
    };
    match answer.and_then(|message| encode(&message)) {
        Ok(data) => answer_with(respond, data),
        Err(status) => answer_status(respond, &status),
    }
}

/// The one message of a request body, as tonic's server would decode it.
async fn read_message<Q: Message + Default>(mut body: RecvStream) -> Result<Q, Status> {
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| Status::cancelled(format!("reading the request: {e}")))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        match first.take() {
            None if rest.is_empty() => first = Some(chunk),
            held => {
                if let Some(held) = held {
                    rest.extend_from_slice(&held);
                }
                rest.extend_from_slice(&chunk);
            }
        }
        let len = first.as_ref().map_or(rest.len(), Bytes::len);
        if len > proto::MAX_MESSAGE_SIZE + 5 {
            return Err(Status::out_of_range(format!(
                "Error, decoded message length too large: found more than {} bytes, the limit is: {} bytes",
                proto::MAX_MESSAGE_SIZE,
                proto::MAX_MESSAGE_SIZE
            )));
        }
    }
    let data = first.unwrap_or_else(|| rest.freeze());
    proto::frame::decode(data).map_err(|e| Status::internal(format!("bad request: {e}")))
}

/// `message` framed, refused as tonic refuses it when over the limit.
fn encode<R: Message>(message: &R) -> Result<Bytes, Status> {
    let len = message.encoded_len();
    if len > proto::MAX_MESSAGE_SIZE {
        return Err(Status::out_of_range(format!(
            "Error, encoded message length too large: found {len} bytes, the limit is: {} bytes",
            proto::MAX_MESSAGE_SIZE
        )));
    }
    Ok(proto::frame::encode(message))
}

fn grpc_headers() -> Response<()> {
    let mut response = Response::new(());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A successful answer: headers, the message, `grpc-status: 0`, queued together.
fn answer_with(mut respond: SendResponse<Bytes>, data: Bytes) -> Result<(), h2::Error> {
    let mut send = respond.send_response(grpc_headers(), false)?;
    send.send_data(data, false)?;
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    send.send_trailers(trailers)
}

/// A failed call, as a trailers-only response.
fn answer_status(mut respond: SendResponse<Bytes>, status: &Status) -> Result<(), h2::Error> {
    let mut response = grpc_headers();
    if let Err(e) = status.add_header(response.headers_mut()) {
        tracing::warn!(error = %e, "gRPC status does not fit a header");
        let _ = Status::internal(e.message().to_owned()).add_header(response.headers_mut());
    }
    respond.send_response(response, true).map(drop)
}

/// A call for tonic's services: the request handed over, the response sent back frame by
/// frame.
async fn to_tonic(
    mut routes: Routes,
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> Result<(), h2::Error> {
    let request = request.map(|stream| {
        tonic::body::Body::new(RequestBody {
            stream,
            data_done: false,
        })
    });
    // The router is always ready; tower's contract asks to be told anyway.
    if let Err(never) =
        poll_fn(|cx| Service::<Request<tonic::body::Body>>::poll_ready(&mut routes, cx)).await
    {
        match never {}
    }
    let deadline = deadline::of_call(request.headers());
    let response = match deadline::scope(deadline, routes.call(request)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, mut body) = response.into_parts();
    let end = body.is_end_stream();
    let mut send = respond.send_response(Response::from_parts(parts, ()), end)?;
    if end {
        return Ok(());
    }
    loop {
        // A call waiting for its next message (StreamHealth) ends when the client resets it.
        let frame = tokio::select! {
            frame = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)) => frame,
            reset = poll_fn(|cx| send.poll_reset(cx)) => {
                return Err(match reset {
                    Ok(reason) => h2::Error::from(reason),
                    Err(e) => e,
                });
            }
        };
        match frame {
            None => return send.send_data(Bytes::new(), true),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "gRPC response body failed");
                send.send_reset(h2::Reason::INTERNAL_ERROR);
                return Ok(());
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => send_flow_controlled(&mut send, data).await?,
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        return send.send_trailers(trailers);
                    }
                }
            },
        }
    }
}

/// Sends `data` as the peer's window allows, so a large streamed result is not buffered
/// whole.
async fn send_flow_controlled(
    send: &mut SendStream<Bytes>,
    mut data: Bytes,
) -> Result<(), h2::Error> {
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let granted = match poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(granted) => granted?,
            None => return Err(h2::Error::from(h2::Reason::STREAM_CLOSED)),
        };
        if granted > 0 {
            let chunk = data.split_to(granted.min(data.len()));
            send.send_data(chunk, false)?;
        }
    }
    Ok(())
}

/// An h2 request stream as an `http_body::Body`, for tonic.
struct RequestBody {
    stream: RecvStream,
    data_done: bool,
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        if !self.data_done {
            match self.stream.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    let _ = self.stream.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => self.data_done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        self.stream
            .poll_trailers(cx)
            .map(|t| t.transpose().map(|t| t.map(Frame::trailers)))
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_end_stream()
    }
}
