//! Fuzzes the packet decoder, the command decoders and COM_STMT_EXECUTE parameter decoding.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mysql_server::command::{ChangeUser, Command};
use mysql_server::packet::decode_packet;
use mysql_server::stmt::Registry;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let mut buf = BytesMut::from(rest);
    let mut seq = knobs & 0x03;
    let max = usize::from(knobs) * 64;
    while let Ok(Some(packet)) = decode_packet(&mut buf, &mut seq, max) {
        match Command::parse(&packet) {
            Ok(Command::ChangeUser(body)) => {
                let _ = ChangeUser::parse(body);
            }
            Ok(Command::Execute { body, .. }) => {
                let mut statements = Registry::new(1024);
                let id = statements.register(b"?", u16::from(knobs >> 4));
                let _ = statements.decode_execute(id, body);
            }
            _ => {}
        }
    }
});
