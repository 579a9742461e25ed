//! docs/PROTOCOL.md framing for the Tokio baseline: frame types, GOAWAY
//! reasons, status codes, this server's HELLO limits, and writers that append
//! whole frames (u32 big-endian length + one msgpack array) to an output Vec.
//! A frame is written in place: `begin` reserves the prefix, `end` patches it.

use crate::msgpack::{Int, Writer};

pub const HELLO: u64 = 1;
pub const REQUEST: u64 = 2;
pub const MESSAGE: u64 = 3;
pub const HALF_CLOSE: u64 = 4;
pub const RESPONSE: u64 = 5;
pub const HEADERS: u64 = 6;
pub const STATUS: u64 = 7;
pub const CANCEL: u64 = 8;
pub const WINDOW: u64 = 9;
pub const PING: u64 = 10;
pub const PONG: u64 = 11;
pub const GOAWAY: u64 = 12;

pub const END_STREAM: u64 = 1;

/// GOAWAY reasons (section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoawayReason {
    NoError = 0,
    ProtocolError = 1,
    FrameTooLarge = 2,
    UnsupportedVersion = 3,
    HandshakeTimeout = 4,
    IdleTimeout = 5,
    MalformedFrame = 7,
    UnknownFrameType = 8,
}

/// Status codes (section 8) this server sends.
pub mod status {
    pub const OK: u64 = 0;
    pub const INVALID_ARGUMENT: u64 = 3;
    pub const DEADLINE_EXCEEDED: u64 = 4;
    pub const RESOURCE_EXHAUSTED: u64 = 8;
    pub const UNIMPLEMENTED: u64 = 12;
    pub const UNAVAILABLE: u64 = 14;
}

pub const VERSION: u64 = 1;

/// The limits this server advertises in its HELLO (the protocol defaults).
pub struct Limits {
    pub max_frame_bytes: u32,
    pub max_concurrent_calls: u32,
    pub initial_window: u32,
    pub max_metadata_bytes: u32,
}

pub const SERVER_LIMITS: Limits =
    Limits { max_frame_bytes: 4 * 1024 * 1024, max_concurrent_calls: 1000, initial_window: 64, max_metadata_bytes: 8192 };

/// Reserves the 4-byte length prefix; returns where the frame starts.
pub fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    start
}

/// Patches the length prefix of the frame begun at `start`; returns its body length.
pub fn end(out: &mut [u8], start: usize) -> usize {
    let body = out.len() - start - 4;
    out[start..start + 4].copy_from_slice(&(body as u32).to_be_bytes());
    body
}

/// Begins `[type, id, ...]` with `count` elements; the caller writes the rest.
pub fn begin_array(out: &mut Vec<u8>, count: usize, frame_type: u64, id: u32) -> usize {
    let start = begin(out);
    let mut w = Writer::new(out);
    w.array_len(count);
    w.uint(frame_type);
    w.uint(id as u64);
    start
}

pub fn write_hello(out: &mut Vec<u8>, l: &Limits) {
    let start = begin_array(out, 7, HELLO, 0);
    let mut w = Writer::new(out);
    w.uint(VERSION);
    w.uint(l.max_frame_bytes as u64);
    w.uint(l.max_concurrent_calls as u64);
    w.uint(l.initial_window as u64);
    w.uint(l.max_metadata_bytes as u64);
    end(out, start);
}

/// `[7, id, code, message, nil, nil, nil]`: no trailers, no typed error.
pub fn write_status(out: &mut Vec<u8>, id: u32, code: u64, message: &str) {
    let start = begin_array(out, 7, STATUS, id);
    let mut w = Writer::new(out);
    w.uint(code);
    w.str(message);
    w.nil();
    w.nil();
    w.nil();
    end(out, start);
}

pub fn write_goaway(out: &mut Vec<u8>, last_id: u32, reason: GoawayReason, message: &str) {
    let start = begin_array(out, 5, GOAWAY, 0);
    let mut w = Writer::new(out);
    w.uint(last_id as u64);
    w.uint(reason as u64);
    w.str(message);
    end(out, start);
}

pub fn write_pong(out: &mut Vec<u8>, opaque: Int) {
    let start = begin_array(out, 3, PONG, 0);
    Writer::new(out).int_value(opaque);
    end(out, start);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_matches_the_protocol_example() {
        let mut out = Vec::new();
        write_hello(&mut out, &SERVER_LIMITS);
        let want = [
            0x00, 0x00, 0x00, 0x10, 0x97, 0x01, 0x00, 0x01, 0xce, 0x00, 0x40, 0x00, 0x00, 0xcd, 0x03, 0xe8, 0x40, 0xcd,
            0x20, 0x00,
        ];
        assert_eq!(out, want);
    }

    #[test]
    fn ok_status_matches_the_protocol_example() {
        let mut out = Vec::new();
        write_status(&mut out, 3, status::OK, "");
        assert_eq!(out, [0x00, 0x00, 0x00, 0x08, 0x97, 0x07, 0x03, 0x00, 0xa0, 0xc0, 0xc0, 0xc0]);
    }
}
