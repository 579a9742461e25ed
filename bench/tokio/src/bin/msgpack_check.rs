//! Toolchain check for the later Tokio RPC baseline: proves that serde (with
//! derive), rmp-serde and bytes from Debian's packaged crates build offline and
//! round-trip a msgpack value. Exits non-zero if the round trip differs.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Probe {
    id: u32,
    method: String,
    payload: Vec<u8>,
}

fn main() {
    let sent = Probe { id: 7, method: "Echo.say".to_string(), payload: vec![1, 2, 3] };
    let encoded = Bytes::from(rmp_serde::to_vec(&sent).expect("encoding a plain struct cannot fail"));
    let back: Probe = rmp_serde::from_slice(&encoded).unwrap_or_else(|e| {
        eprintln!("msgpack_check: decoding failed: {e}");
        std::process::exit(1);
    });
    if back != sent {
        eprintln!("msgpack_check: round trip changed the value: {back:?} != {sent:?}");
        std::process::exit(1);
    }
    println!("msgpack_check: ok ({} bytes)", encoded.len());
}
