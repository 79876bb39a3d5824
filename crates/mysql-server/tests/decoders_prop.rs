//! Property tests over the entry points that see untrusted bytes: the packet decoder, the
//! command decoder, COM_CHANGE_USER and COM_STMT_EXECUTE parameter decoding, and the text to
//! binary row conversion. None may panic; framing must round-trip.

use bytes::BytesMut;
use mysql_server::binary::encode_value;
use mysql_server::command::{ChangeUser, Command};
use mysql_server::packet::{decode_packet, PacketWriter, MAX_PAYLOAD};
use mysql_server::stmt::Registry;
use mysql_server::{ColumnFlags, ColumnType};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn packet_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), seq in any::<u8>(), max in 0usize..400) {
        let mut buf = BytesMut::from(&bytes[..]);
        let mut s = seq;
        let before = buf.len();
        match decode_packet(&mut buf, &mut s, max) {
            Ok(Some(p)) => prop_assert!(p.len() <= max && buf.len() < before),
            Ok(None) => prop_assert_eq!((buf.len(), s), (before, seq)),
            Err(_) => prop_assert_eq!(s, seq),
        }
    }

    #[test]
    fn framing_round_trips(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2000), 1..5), start in any::<u8>()) {
        let mut w = PacketWriter::default();
        w.set_seq(start);
        for p in &payloads {
            w.packet(p);
        }
        let mut buf = w.take();
        let mut seq = start;
        for p in &payloads {
            let got = decode_packet(&mut buf, &mut seq, MAX_PAYLOAD).unwrap().unwrap();
            prop_assert_eq!(&got[..], &p[..]);
        }
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn command_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Command::ChangeUser(body)) = Command::parse(&bytes) {
            let _ = ChangeUser::parse(body);
        }
        let _ = ChangeUser::parse(&bytes);
    }

    #[test]
    fn execute_decoder_never_panics(params in 0u16..6, body in proptest::collection::vec(any::<u8>(), 0..80), long in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut reg = Registry::new(16);
        let id = reg.register(b"select ?", params);
        if !long.is_empty() {
            reg.append_long_data(id, u16::from(long[0] % 4), &long);
        }
        if let Ok((_, decoded)) = reg.decode_execute(id, &body) {
            prop_assert_eq!(decoded.len(), usize::from(params));
        }
        let _ = reg.decode_execute(id.wrapping_add(1), &body);
    }

    #[test]
    fn binary_conversion_never_panics(ty in 0u8..20, unsigned in any::<bool>(), text in "[-0-9:. e]{0,30}") {
        if let Ok(ty) = ColumnType::try_from(ty) {
            let flags = if unsigned { ColumnFlags::UNSIGNED_FLAG } else { ColumnFlags::empty() };
            let mut buf = BytesMut::new();
            let _ = encode_value(&mut buf, ty, flags, text.as_bytes());
        }
    }
}

mod support;

/// A command: a known command byte (or a random one) and a random body.
fn command() -> impl Strategy<Value = Vec<u8>> {
    let codes = vec![
        0x01u8, 0x02, 0x03, 0x04, 0x0e, 0x11, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x55,
    ];
    (
        prop_oneof![proptest::sample::select(codes), any::<u8>()],
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(code, mut body)| {
            body.insert(0, code);
            body
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The whole connection (login, then pipelined random commands and trailing garbage) never
    /// panics and ends once the client is gone.
    #[test]
    fn dispatcher_survives_random_commands(
        commands in proptest::collection::vec(command(), 0..8),
        tail in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        use std::sync::Arc;
        use support::raw::{client_caps, handshake_response, read_packet};
        use tokio::io::AsyncWriteExt;

        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let (client, server) = tokio::io::duplex(1 << 16);
            let peer = "127.0.0.1:1".parse().unwrap();
            let config = Arc::new(mysql_server::ServerConfig::default());
            let conn = tokio::spawn(mysql_server::serve_connection(
                Box::new(server),
                peer,
                config,
                Arc::new(support::echo::EchoFactory),
            ));
            let (mut rd, mut wr) = tokio::io::split(client);
            read_packet(&mut rd).await.expect("handshake");
            let drain = tokio::spawn(async move { while read_packet(&mut rd).await.is_some() {} });
            let mut bytes = Vec::new();
            let mut frame = |seq: u8, p: &[u8]| {
                let n = p.len();
                bytes.extend_from_slice(&[n as u8, (n >> 8) as u8, (n >> 16) as u8, seq]);
                bytes.extend_from_slice(p);
            };
            frame(1, &handshake_response(client_caps(), "u", b"", "mysql_native_password"));
            frame(0, b"\x16select ?, ?");
            for c in &commands {
                frame(0, c);
            }
            bytes.extend_from_slice(&tail);
            // The server may close early (COM_QUIT, a framing error): later writes may fail.
            let _ = wr.write_all(&bytes).await;
            let _ = wr.shutdown().await;
            tokio::time::timeout(std::time::Duration::from_secs(10), conn)
                .await
                .expect("connection task hung")
                .expect("connection task panicked");
            drop(wr);
            drain.await.unwrap();
        });
    }
}
