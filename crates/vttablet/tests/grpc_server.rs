//! The tablet's own gRPC server (`vttablet::grpc`), spoken to with a bare HTTP/2 client so
//! that malformed calls can be sent: a body that is not the message, a compressed frame and a
//! path nobody serves each get a gRPC error status, and the same connection then still runs
//! a query, a failing query (status and message in the trailers-only answer) and a
//! streamed one (through tonic's services).

mod common;

use bytes::{BufMut, Bytes, BytesMut};
use common::*;
use h2::client::SendRequest;
use http::{HeaderMap, Request};
use prost::Message;
use proto::query::{ExecuteResponse, StreamExecuteRequest, StreamExecuteResponse};
use proto::topodata::TabletType;

/// What a call got back: gRPC status code, message, and the body's bytes.
struct Answer {
    code: i32,
    message: String,
    body: Bytes,
}

async fn call(sender: &mut SendRequest<Bytes>, path: &str, body: Bytes) -> Answer {
    let request = Request::post(format!("http://tablet{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let mut ready = sender.clone().ready().await.expect("connection ready");
    let (response, mut send) = ready.send_request(request, false).expect("request sent");
    send.send_data(body, true).expect("body sent");
    let response = response.await.expect("response headers");
    assert_eq!(response.status(), 200);
    let (parts, mut recv) = response.into_parts();
    let mut data = BytesMut::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.expect("response data");
        let _ = recv.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = recv.trailers().await.expect("trailers");
    // A trailers-only answer carries the status in its headers.
    let status: &HeaderMap = trailers.as_ref().unwrap_or(&parts.headers);
    let code = status
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().parse().unwrap())
        .expect("grpc-status");
    let message = status
        .get("grpc-message")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    *sender = ready;
    Answer {
        code,
        message,
        body: data.freeze(),
    }
}

fn frame(flag: u8, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_u8(flag);
    buf.put_u32(payload.len() as u32);
    buf.put_slice(payload);
    buf.freeze()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_calls_get_statuses_and_the_connection_keeps_serving() {
    let topo = topo().await;
    let keyspace = unique("gks");
    let db = unique("vt_gtest");
    let tablet = start_shared_primary(&topo, 100, &keyspace, &db).await;
    let primary = target(&keyspace, TabletType::Primary);
    let tcp = tokio::net::TcpStream::connect(tablet.grpc_addr)
        .await
        .unwrap();
    let (mut sender, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(connection);

    // Not a gRPC frame, a frame whose bytes are not an ExecuteRequest, a compressed frame.
    const INTERNAL: i32 = 13;
    const UNIMPLEMENTED: i32 = 12;
    let execute = "/queryservice.Query/Execute";
    let short = call(&mut sender, execute, Bytes::from_static(&[0, 0])).await;
    assert_eq!(short.code, INTERNAL, "{}", short.message);
    assert!(short.message.contains("bad%20request"), "{}", short.message);
    let garbage = call(&mut sender, execute, frame(0, &[0xff; 9])).await;
    assert_eq!(garbage.code, INTERNAL, "{}", garbage.message);
    let query = request(&primary, "select 1", &[], 0).encode_to_vec();
    let compressed = call(&mut sender, execute, frame(1, &query)).await;
    assert_eq!(compressed.code, INTERNAL);
    assert!(
        compressed.message.contains("compressed"),
        "{}",
        compressed.message
    );
    let unknown = call(
        &mut sender,
        "/queryservice.Query/NoSuchCall",
        frame(0, &query),
    )
    .await;
    assert_eq!(unknown.code, UNIMPLEMENTED);

    // The same connection still answers.
    let ok = call(&mut sender, execute, frame(0, &query)).await;
    assert_eq!(ok.code, 0, "{}", ok.message);
    let response = proto::frame::decode::<ExecuteResponse>(ok.body).expect("one message");
    assert_eq!(rows(&response.result.unwrap()), [[Some("1".to_string())]]);

    // A query MariaDB refuses: the tablet's error travels in the status, as through tonic.
    let bad = request(&primary, "select * from no_such_table", &[], 0).encode_to_vec();
    let failed = call(&mut sender, execute, frame(0, &bad)).await;
    assert_ne!(failed.code, 0);
    assert!(failed.message.contains("1146"), "{}", failed.message);

    // A streamed call goes through tonic's generated service on the same connection.
    let stream = StreamExecuteRequest {
        target: Some(primary.clone()),
        query: request(&primary, "select 2", &[], 0).query,
        ..StreamExecuteRequest::default()
    };
    let streamed = call(
        &mut sender,
        "/queryservice.Query/StreamExecute",
        frame(0, &stream.encode_to_vec()),
    )
    .await;
    assert_eq!(streamed.code, 0, "{}", streamed.message);
    let mut body = streamed.body;
    let mut rows_seen = Vec::new();
    while body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let one = body.split_to(5 + len);
        let piece = proto::frame::decode::<StreamExecuteResponse>(one).expect("a message");
        rows_seen.extend(rows(&piece.result.unwrap_or_default()));
    }
    assert_eq!(rows_seen, [[Some("2".to_string())]]);

    tablet.shutdown().await;
    drop_shared_db(&db).await;
}
