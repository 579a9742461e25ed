//! One connection's docs/PROTOCOL.md state machine for the Tokio baseline:
//! HELLO exchange, frame parsing (length checked before the body is
//! buffered), unary calls answered on the RESPONSE fast path, `ticks` streams
//! paced by WINDOW credit, call-level STATUS errors and connection-level
//! GOAWAY. Pure: it reads bytes handed to it and appends frames to an output
//! Vec; the caller owns the socket, the timers and when to write.

use std::time::{Duration, Instant};

use crate::bench_service as svc;
use crate::frames::{self, status, GoawayReason, SERVER_LIMITS};
use crate::msgpack::{ReadError, Reader, Writer};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// What the caller does after handing bytes or a timer tick to the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep reading.
    Continue,
    /// Flush the output, then close the socket (a GOAWAY is already queued, if any).
    Close,
}

/// A running `ticks` call.
struct TickStream {
    id: u32,
    next_seq: u32,
    count: u32,
    size: u32,
    credit: u64,
    deadline: Option<Instant>,
}

/// A connection error found while parsing: becomes GOAWAY + close.
struct Fatal(GoawayReason, String);

type FrameResult = Result<(), Fatal>;

fn malformed(what: &str, e: ReadError) -> Fatal {
    Fatal(GoawayReason::MalformedFrame, format!("malformed frame: {what}: {}", e.describe()))
}

fn protocol(message: String) -> Fatal {
    Fatal(GoawayReason::ProtocolError, message)
}

pub struct Connection {
    hello_received: bool,
    peer_max_frame: usize,
    peer_window: u64,
    last_request_id: u32,
    draining: bool,
    peer_gone: bool,
    streams: Vec<TickStream>,
    handshake_deadline: Instant,
    last_activity: Instant,
}

impl Connection {
    /// A new connection; queues this side's HELLO into `out`.
    pub fn new(now: Instant, out: &mut Vec<u8>) -> Self {
        frames::write_hello(out, &SERVER_LIMITS);
        Connection {
            hello_received: false,
            peer_max_frame: 1024,
            peer_window: 1,
            last_request_id: 0,
            draining: false,
            peer_gone: false,
            streams: Vec::new(),
            handshake_deadline: now + HANDSHAKE_TIMEOUT,
            last_activity: now,
        }
    }

    /// Parses every complete frame in `input`, appending replies to `out`.
    /// Returns the bytes consumed (a partial frame stays with the caller) and
    /// what to do next. A length prefix over the limit is rejected as soon as
    /// its 4 bytes are here, before the body is buffered.
    pub fn on_input(&mut self, input: &[u8], out: &mut Vec<u8>, now: Instant) -> (usize, Next) {
        self.last_activity = now;
        let mut pos = 0;
        while input.len() - pos >= 4 {
            let len = u32::from_be_bytes([input[pos], input[pos + 1], input[pos + 2], input[pos + 3]]) as usize;
            let fatal = if len > SERVER_LIMITS.max_frame_bytes as usize {
                Some(Fatal(
                    GoawayReason::FrameTooLarge,
                    format!("frame of {len} bytes is over this server's maxFrameBytes {}", SERVER_LIMITS.max_frame_bytes),
                ))
            } else if len == 0 {
                Some(Fatal(GoawayReason::MalformedFrame, "malformed frame: length 0".to_string()))
            } else if input.len() - pos - 4 < len {
                break;
            } else {
                let body = &input[pos + 4..pos + 4 + len];
                pos += 4 + len;
                self.on_frame(body, out, now).err()
            };
            if let Some(Fatal(reason, message)) = fatal {
                frames::write_goaway(out, self.last_request_id, reason, &message);
                return (input.len(), Next::Close);
            }
            if self.peer_gone || (self.draining && self.streams.is_empty()) {
                return (pos, Next::Close);
            }
        }
        (pos, Next::Continue)
    }

    /// The earliest instant `on_timer` has work: the HELLO deadline, a
    /// stream's deadline, or the idle timeout when no call is open.
    pub fn next_deadline(&self) -> Instant {
        if !self.hello_received {
            return self.handshake_deadline;
        }
        let idle = self.last_activity + IDLE_TIMEOUT;
        self.streams.iter().filter_map(|s| s.deadline).min().unwrap_or(idle)
    }

    /// Handles expired deadlines; early calls are harmless.
    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<u8>) -> Next {
        if !self.hello_received {
            if now >= self.handshake_deadline {
                frames::write_goaway(out, 0, GoawayReason::HandshakeTimeout, "no HELLO within 10000 ms");
                return Next::Close;
            }
            return Next::Continue;
        }
        self.expire_streams(now, out);
        if self.streams.is_empty() && now >= self.last_activity + IDLE_TIMEOUT {
            frames::write_goaway(out, self.last_request_id, GoawayReason::IdleTimeout, "idle for 300000 ms with no open call");
            return Next::Close;
        }
        Next::Continue
    }

    fn expire_streams(&mut self, now: Instant, out: &mut Vec<u8>) {
        self.streams.retain(|s| match s.deadline {
            Some(d) if now >= d => {
                frames::write_status(out, s.id, status::DEADLINE_EXCEEDED, "deadline exceeded while streaming ticks");
                false
            }
            _ => true,
        });
    }

    /// True when a stream has both credit and ticks left: call `produce`.
    pub fn has_ready_streams(&self) -> bool {
        self.streams.iter().any(|s| s.credit > 0)
    }

    /// Writes tick MESSAGE frames within each stream's credit, at most about
    /// `budget` bytes, and STATUS OK for streams that finished. Returns what to
    /// do next (Close once a draining connection has no call left).
    pub fn produce(&mut self, out: &mut Vec<u8>, budget: usize, now: Instant) -> Next {
        if self.streams.iter().any(|s| s.deadline.is_some()) {
            self.expire_streams(now, out);
        }
        let limit = out.len() + budget;
        let mut i = 0;
        while i < self.streams.len() && out.len() < limit {
            let s = &mut self.streams[i];
            while s.credit > 0 && s.next_seq < s.count && out.len() < limit {
                let start = frames::begin_array(out, 4, frames::MESSAGE, s.id);
                let mut w = Writer::new(out);
                w.uint(0);
                svc::encode_tick(&mut w, s.next_seq, s.size);
                frames::end(out, start);
                s.next_seq += 1;
                s.credit -= 1;
            }
            if s.next_seq == s.count {
                frames::write_status(out, s.id, status::OK, "");
                self.streams.swap_remove(i);
            } else {
                i += 1;
            }
        }
        if self.draining && self.streams.is_empty() { Next::Close } else { Next::Continue }
    }

    fn on_frame(&mut self, body: &[u8], out: &mut Vec<u8>, now: Instant) -> FrameResult {
        let mut r = Reader::new(body);
        let n = r.array_len().map_err(|e| malformed("frame body is not an array", e))?;
        if n < 2 {
            return Err(Fatal(GoawayReason::MalformedFrame, format!("malformed frame: array of {n} elements, need type and id")));
        }
        let frame_type = r.int().map_err(|e| malformed("frame type", e))?.as_i128();
        let id = r.u32().map_err(|e| malformed("frame id", e))?;
        if !(frames::HELLO as i128..=frames::GOAWAY as i128).contains(&frame_type) {
            return Err(Fatal(GoawayReason::UnknownFrameType, format!("unknown frame type {frame_type}")));
        }
        let frame_type = frame_type as u64;
        if !self.hello_received {
            if frame_type != frames::HELLO {
                return Err(protocol(format!("first frame must be HELLO (type 1), got type {frame_type}")));
            }
            return self.on_hello(&mut r, n);
        }
        let required = match frame_type {
            frames::REQUEST => 6,
            frames::MESSAGE => 4,
            frames::WINDOW | frames::PING | frames::PONG => 3,
            frames::GOAWAY => 5,
            _ => 2,
        };
        if n < required {
            return Err(Fatal(
                GoawayReason::MalformedFrame,
                format!("malformed frame: type {frame_type} needs {required} elements, got {n}"),
            ));
        }
        let handled = match frame_type {
            frames::HELLO => return Err(protocol("second HELLO on the connection".to_string())),
            frames::REQUEST => return self.on_request(&mut r, n, id, out, now),
            frames::MESSAGE => {
                // Every Bench method reads one inline message: a client
                // message is for a finished (or half-closed) call: dropped.
                r.int().map_err(|e| malformed("MESSAGE flags", e))?;
                r.skip().map_err(|e| malformed("MESSAGE message", e))?;
                4
            }
            frames::HALF_CLOSE => 2,
            frames::CANCEL => {
                self.streams.retain(|s| s.id != id);
                2
            }
            frames::WINDOW => {
                let credit = r.int().map_err(|e| malformed("WINDOW credit", e))?.as_i128();
                if credit <= 0 {
                    return Err(protocol(format!("WINDOW credit must be > 0, got {credit}")));
                }
                if let Some(s) = self.streams.iter_mut().find(|s| s.id == id) {
                    s.credit = s.credit.saturating_add(credit.min(u64::MAX as i128) as u64);
                }
                3
            }
            frames::PING => {
                let opaque = r.int().map_err(|e| malformed("PING opaque", e))?;
                frames::write_pong(out, opaque);
                3
            }
            frames::PONG => {
                r.int().map_err(|e| malformed("PONG opaque", e))?;
                3
            }
            frames::GOAWAY => {
                r.int().map_err(|e| malformed("GOAWAY lastId", e))?;
                let reason = r.int().map_err(|e| malformed("GOAWAY reason", e))?.as_i128();
                r.str().map_err(|e| malformed("GOAWAY message", e))?;
                if reason != GoawayReason::NoError as i128 {
                    // The peer gave up on the connection: close without a reply.
                    self.streams.clear();
                    self.peer_gone = true;
                }
                self.draining = true;
                5
            }
            other => return Err(protocol(format!("frame type {other} is only sent by servers"))),
        };
        finish_frame(&mut r, n, handled)
    }

    fn on_hello(&mut self, r: &mut Reader, n: usize) -> FrameResult {
        if n < 7 {
            return Err(protocol(format!("HELLO needs 7 elements, got {n}")));
        }
        let mut field = |name: &str| r.int().map(|v| v.as_i128()).map_err(|e| malformed(&format!("HELLO {name}"), e));
        let version = field("version")?;
        let max_frame = field("maxFrameBytes")?;
        let max_calls = field("maxConcurrentCalls")?;
        let window = field("initialWindow")?;
        let max_metadata = field("maxMetadataBytes")?;
        if version != frames::VERSION as i128 {
            return Err(Fatal(
                GoawayReason::UnsupportedVersion,
                format!("protocol version {version} is not supported; this server speaks version 1"),
            ));
        }
        if max_frame < 1024 || max_calls < 1 || window < 1 || max_metadata < 0 {
            return Err(protocol(format!(
                "HELLO below the minimums (maxFrameBytes {max_frame} >= 1024, maxConcurrentCalls {max_calls} >= 1, initialWindow {window} >= 1, maxMetadataBytes {max_metadata} >= 0)"
            )));
        }
        self.peer_max_frame = max_frame.min(u32::MAX as i128) as usize;
        self.peer_window = window.min(u32::MAX as i128) as u64;
        self.hello_received = true;
        finish_frame(r, n, 7)
    }

    fn on_request(&mut self, r: &mut Reader, n: usize, id: u32, out: &mut Vec<u8>, now: Instant) -> FrameResult {
        if id == 0 || id <= self.last_request_id {
            return Err(protocol(format!("REQUEST id {id} is not greater than the previous id {}", self.last_request_id)));
        }
        self.last_request_id = id;
        let path = r.str_bytes().map_err(|e| malformed("REQUEST path", e))?;
        let timeout_ms = if r.try_nil() { None } else { Some(r.int().map_err(|e| malformed("REQUEST timeoutMs", e))?.as_i128()) };
        let metadata_error = if r.try_nil() { None } else { check_metadata(r)? };
        let flags = r.int().map_err(|e| malformed("REQUEST flags", e))?.as_i128();

        if self.draining {
            frames::write_status(out, id, status::UNAVAILABLE, "the connection is shutting down (GOAWAY received)");
            return Ok(());
        }
        let method = match path {
            svc::ECHO | svc::ECHO_TEXT | svc::ADD | svc::ORDER | svc::TICKS => path,
            _ => {
                let msg = format!("unknown method {}", String::from_utf8_lossy(path));
                frames::write_status(out, id, status::UNIMPLEMENTED, &msg);
                return Ok(());
            }
        };
        let kind = if method == svc::TICKS { "server_stream" } else { "unary" };
        if let Some(msg) = kind_mismatch(id, method, kind, n >= 7, flags)? {
            frames::write_status(out, id, status::UNIMPLEMENTED, &msg);
            return Ok(());
        }
        if let Some((code, message)) = metadata_error {
            frames::write_status(out, id, code, &message);
            return Ok(());
        }
        if method == svc::TICKS {
            return self.start_ticks(r, n, id, timeout_ms, out, now);
        }
        let start = frames::begin_array(out, 3, frames::RESPONSE, id);
        let decoded = {
            let mut w = Writer::new(out);
            match method {
                svc::ECHO => svc::decode_echo(r).map(|m| svc::encode_echo_reply(&mut w, &m)),
                svc::ECHO_TEXT => svc::decode_text(r).map(|m| svc::encode_text_reply(&mut w, &m)),
                svc::ADD => svc::decode_add(r).map(|m| svc::encode_add_reply(&mut w, &m)),
                _ => svc::decode_order(r).map(|m| svc::encode_order_reply(&mut w, &m)),
            }
        };
        match decoded {
            Err(e) => {
                // A bad message is a call error; the length prefix keeps the stream in sync.
                out.truncate(start);
                frames::write_status(out, id, status::INVALID_ARGUMENT, &e.message());
                Ok(())
            }
            Ok(()) => {
                if frames::end(out, start) > self.peer_max_frame {
                    out.truncate(start);
                    let msg = format!("the response is over the client's maxFrameBytes {}", self.peer_max_frame);
                    frames::write_status(out, id, status::RESOURCE_EXHAUSTED, &msg);
                }
                finish_frame(r, n, 7)
            }
        }
    }

    fn start_ticks(&mut self, r: &mut Reader, n: usize, id: u32, timeout_ms: Option<i128>, out: &mut Vec<u8>, now: Instant) -> FrameResult {
        let req = match svc::decode_ticks(r) {
            Ok(req) => req,
            Err(e) => {
                frames::write_status(out, id, status::INVALID_ARGUMENT, &e.message());
                return Ok(());
            }
        };
        finish_frame(r, n, 7)?;
        if self.streams.len() >= SERVER_LIMITS.max_concurrent_calls as usize {
            let msg = format!("more than maxConcurrentCalls {} open calls", SERVER_LIMITS.max_concurrent_calls);
            frames::write_status(out, id, status::RESOURCE_EXHAUSTED, &msg);
            return Ok(());
        }
        if req.size as usize + svc::TICK_OVERHEAD + 16 > self.peer_max_frame {
            let msg = format!("a tick of {} bytes is over the client's maxFrameBytes {}", req.size, self.peer_max_frame);
            frames::write_status(out, id, status::RESOURCE_EXHAUSTED, &msg);
            return Ok(());
        }
        if req.count == 0 {
            frames::write_status(out, id, status::OK, "");
            return Ok(());
        }
        let deadline = timeout_ms.map(|ms| now + Duration::from_millis(ms.clamp(0, u32::MAX as i128) as u64));
        self.streams.push(TickStream { id, next_seq: 0, count: req.count, size: req.size, credit: self.peer_window, deadline });
        Ok(())
    }
}

/// PROTOCOL.md section 10, rules 5 and 18: the REQUEST's shape and the kind
/// it declares in flags bits 1-3 against the method's kind. Every Bench method
/// takes an inline message, so only a declared kind tells a server_stream
/// client of `echo` from a unary one. Ok(Some(message)) is a call error
/// (STATUS UNIMPLEMENTED); Err is a REQUEST no kind can send.
fn kind_mismatch(id: u32, path: &[u8], kind: &str, inline: bool, flags: i128) -> Result<Option<String>, Fatal> {
    if inline && flags & frames::END_STREAM as i128 == 0 {
        return Err(protocol(format!("REQUEST {id} carries an inline message without END_STREAM")));
    }
    let declared = match (flags >> 1) & 7 {
        1 => Some("unary"),
        2 => Some("server_stream"),
        3 => Some("client_stream"),
        4 => Some("bidi"),
        _ => None, // 0 declares nothing; 5-7 are reserved and read as 0
    };
    if let Some(d) = declared {
        if (d == "client_stream" || d == "bidi") == inline {
            let has = if inline { "carries an" } else { "has no" };
            return Err(protocol(format!("REQUEST {id} declares kind {d} but {has} inline message")));
        }
    }
    let client = match declared {
        Some(d) => d,
        None if inline => kind,
        None => "client_stream or bidi (its REQUEST has no inline message)",
    };
    if client == kind {
        return Ok(None);
    }
    let path = String::from_utf8_lossy(path);
    Ok(Some(format!("method kind mismatch on {path}: client {client}, server {kind}; client and server were built from different IDLs")))
}

/// Skips the elements after the `handled` known ones and requires the body to
/// end with the array.
fn finish_frame(r: &mut Reader, n: usize, handled: usize) -> FrameResult {
    for _ in handled.min(n)..n {
        r.skip().map_err(|e| malformed("extra element", e))?;
    }
    if !r.at_end() {
        return Err(Fatal(GoawayReason::MalformedFrame, format!("malformed frame: {} bytes after the array", r.remaining())));
    }
    Ok(())
}

/// Checks a REQUEST metadata map (section 5). A map of the wrong shape is a
/// malformed frame; a bad key or an oversize map is a call error, returned as
/// (status, message).
fn check_metadata(r: &mut Reader) -> Result<Option<(u64, String)>, Fatal> {
    let n = r.map_len().map_err(|e| malformed("REQUEST metadata", e))?;
    let mut size = 0usize;
    let mut error = None;
    for _ in 0..n {
        let key = r.str_bytes().map_err(|e| malformed("REQUEST metadata key", e))?;
        let value_len = match r.peek().map_err(|e| malformed("REQUEST metadata value", e))? {
            0xc4..=0xc6 => r.bin(),
            _ => r.str().map(|s| s.as_bytes()),
        }
        .map_err(|e| malformed("REQUEST metadata value (str or bin)", e))?
        .len();
        size += key.len() + value_len;
        let valid = !key.is_empty() && key.len() <= 255 && key.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'));
        if !valid && error.is_none() {
            let msg = format!("invalid metadata key {:?}: keys are 1-255 bytes of [a-z0-9._-]", String::from_utf8_lossy(key));
            error = Some((status::INVALID_ARGUMENT, msg));
        }
    }
    if size > SERVER_LIMITS.max_metadata_bytes as usize {
        let msg = format!("metadata is {size} bytes, over the server's maxMetadataBytes {}", SERVER_LIMITS.max_metadata_bytes);
        return Ok(Some((status::RESOURCE_EXHAUSTED, msg)));
    }
    Ok(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    const CLIENT_HELLO: &[u8] = &[0x97, 0x01, 0x00, 0x01, 0xce, 0x00, 0x40, 0x00, 0x00, 0xcd, 0x03, 0xe8, 0x03, 0xcd, 0x20, 0x00];

    fn open() -> (Connection, Vec<u8>, Instant) {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut c = Connection::new(now, &mut out);
        out.clear();
        assert_eq!(c.on_input(&frame(CLIENT_HELLO), &mut out, now), (20, Next::Continue));
        assert!(out.is_empty());
        (c, out, now)
    }

    fn request(id: u8, path: &[u8], timeout: u8, msg: &[u8]) -> Vec<u8> {
        let mut b = vec![0x97, 0x02, id, 0xa0 | path.len() as u8];
        b.extend_from_slice(path);
        b.extend_from_slice(&[timeout, 0xc0, 0x01]);
        b.extend_from_slice(msg);
        frame(&b)
    }

    #[test]
    fn unary_add_answers_on_the_response_fast_path() {
        let (mut c, mut out, now) = open();
        let req = request(1, svc::ADD, 0xc0, &[0x82, 0x01, 0x05, 0x02, 0xff]);
        assert_eq!(c.on_input(&req, &mut out, now), (req.len(), Next::Continue));
        assert_eq!(out, frame(&[0x93, 0x05, 0x01, 0x81, 0x01, 0x04]));
    }

    #[test]
    fn a_partial_frame_waits_and_an_oversize_prefix_is_rejected_before_its_body() {
        let (mut c, mut out, now) = open();
        let req = request(1, svc::ECHO, 0xc0, &[0x81, 0x01, 0xc4, 0x01, 0x09]);
        assert_eq!(c.on_input(&req[..req.len() - 1], &mut out, now), (0, Next::Continue));
        assert!(out.is_empty());
        let (_, next) = c.on_input(&[0x00, 0x40, 0x00, 0x01], &mut out, now);
        assert_eq!(next, Next::Close);
        assert_eq!(&out[4..8], &[0x95, 0x0c, 0x00, 0x00]);
        assert_eq!(out[8], GoawayReason::FrameTooLarge as u8);
    }

    #[test]
    fn ticks_stop_at_the_window_and_resume_on_credit() {
        let (mut c, mut out, now) = open();
        // The client's HELLO above grants a window of 3; ask for 5 ticks of 2 bytes.
        c.on_input(&request(1, svc::TICKS, 0xc0, &[0x82, 0x01, 0x05, 0x02, 0x02]), &mut out, now);
        c.produce(&mut out, 1 << 20, now);
        let message = |seq: u8| frame(&[0x94, 0x03, 0x01, 0x00, 0x82, 0x01, seq, 0x02, 0xc4, 0x02, seq, seq]);
        assert_eq!(out, [message(0), message(1), message(2)].concat());
        assert!(!c.has_ready_streams());
        out.clear();
        c.on_input(&frame(&[0x93, 0x09, 0x01, 0x05]), &mut out, now);
        c.produce(&mut out, 1 << 20, now);
        let ok = frame(&[0x97, 0x07, 0x01, 0x00, 0xa0, 0xc0, 0xc0, 0xc0]);
        assert_eq!(out, [message(3), message(4), ok].concat());
    }

    #[test]
    fn a_stream_past_its_deadline_ends_with_deadline_exceeded() {
        let (mut c, mut out, now) = open();
        c.on_input(&request(1, svc::TICKS, 0x0a, &[0x82, 0x01, 0x64, 0x02, 0x01]), &mut out, now);
        c.produce(&mut out, 1 << 20, now);
        out.clear();
        assert_eq!(c.next_deadline(), now + Duration::from_millis(10));
        assert_eq!(c.on_timer(now + Duration::from_millis(11), &mut out), Next::Continue);
        assert_eq!(&out[4..8], &[0x97, 0x07, 0x01, status::DEADLINE_EXCEEDED as u8]);
    }

    #[test]
    fn call_errors_keep_the_connection_and_wrong_frames_close_it() {
        let (mut c, mut out, now) = open();
        c.on_input(&request(1, b"x.Y/z", 0xc0, &[0x80]), &mut out, now);
        assert_eq!(&out[4..8], &[0x97, 0x07, 0x01, status::UNIMPLEMENTED as u8]);
        out.clear();
        c.on_input(&request(2, svc::ADD, 0xc0, &[0x81, 0x01, 0xa1, 0x78]), &mut out, now);
        assert_eq!(&out[4..8], &[0x97, 0x07, 0x02, status::INVALID_ARGUMENT as u8]);
        assert!(String::from_utf8_lossy(&out).contains("a: expected int but found string"));
        out.clear();
        // An id that does not increase is a connection error.
        let (_, next) = c.on_input(&request(2, svc::ADD, 0xc0, &[0x80]), &mut out, now);
        assert_eq!(next, Next::Close);
        assert_eq!(out[8], GoawayReason::ProtocolError as u8);
    }

    /// A REQUEST for `add` ({1: 1, 2: 2}) with these flags, with or without the inline message.
    fn add_request(id: u8, flags: u8, inline: bool) -> Vec<u8> {
        let mut b = vec![if inline { 0x97 } else { 0x96 }, 0x02, id, 0xa0 | svc::ADD.len() as u8];
        b.extend_from_slice(svc::ADD);
        b.extend_from_slice(&[0xc0, 0xc0, flags]);
        if inline {
            b.extend_from_slice(&[0x82, 0x01, 0x01, 0x02, 0x02]);
        }
        frame(&b)
    }

    #[test]
    fn a_method_kind_mismatch_is_unimplemented_and_the_connection_goes_on() {
        let (mut c, mut out, now) = open();
        // flags: bit 0 END_STREAM, bits 1-3 the declared kind (1 unary, 2 server_stream, 4 bidi).
        for (id, flags, inline, client) in [
            (1, 0x01 | 2 << 1, true, "server_stream"),
            (2, 4 << 1, false, "bidi"),
            (3, 0x01, false, "client_stream or bidi (its REQUEST has no inline message)"),
        ] {
            assert_eq!(c.on_input(&add_request(id, flags, inline), &mut out, now).1, Next::Continue);
            assert_eq!(&out[4..8], &[0x97, 0x07, id, status::UNIMPLEMENTED as u8]);
            let expected = format!("method kind mismatch on bench.v1.Bench/add: client {client}, server unary; client and server were built from different IDLs");
            assert!(String::from_utf8_lossy(&out).contains(&expected), "{}", String::from_utf8_lossy(&out));
            out.clear();
        }
        // A matching declared kind is served.
        c.on_input(&add_request(4, 0x01 | 1 << 1, true), &mut out, now);
        assert_eq!(&out[4..7], &[0x93, 0x05, 0x04]);
        out.clear();
        // An inline message without END_STREAM fits no kind.
        assert_eq!(c.on_input(&add_request(5, 0x00, true), &mut out, now).1, Next::Close);
        assert_eq!(out[8], GoawayReason::ProtocolError as u8);
        assert!(String::from_utf8_lossy(&out).contains("REQUEST 5 carries an inline message without END_STREAM"));
    }

    #[test]
    fn ping_gets_pong_and_unknown_types_close() {
        let (mut c, mut out, now) = open();
        c.on_input(&frame(&[0x93, 0x0a, 0x00, 0xd1, 0xff, 0x7f]), &mut out, now);
        assert_eq!(out, frame(&[0x93, 0x0b, 0x00, 0xd1, 0xff, 0x7f]));
        out.clear();
        assert_eq!(c.on_input(&frame(&[0x92, 0x63, 0x00]), &mut out, now).1, Next::Close);
        assert_eq!(out[8], GoawayReason::UnknownFrameType as u8);
    }
}
