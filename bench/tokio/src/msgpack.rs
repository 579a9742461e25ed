//! Hand-written msgpack reader and writer for the RPC baseline: exactly the
//! subset docs/ENCODING.md and docs/PROTOCOL.md use. The reader borrows from
//! the frame (zero copy), accepts every int/str/bin/float form and rejects
//! extensions other than timestamps; the writer always emits the smallest form
//! (canonical bytes, like ringrpc's own encoder). No I/O, no allocation beyond
//! the output Vec the caller owns.

/// Most nested containers `skip` walks into (ENCODING.md section 7).
pub const MAX_NESTING: u32 = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The input ended inside a value.
    Truncated,
    /// A value had another msgpack type than the schema wants.
    WrongType { expected: &'static str, found: &'static str },
    /// A value was well-formed but out of range or otherwise invalid.
    Invalid(&'static str),
}

impl ReadError {
    pub fn describe(&self) -> String {
        match self {
            ReadError::Truncated => "input ended inside a value".to_string(),
            ReadError::WrongType { expected, found } => format!("expected {expected} but found {found}"),
            ReadError::Invalid(why) => why.to_string(),
        }
    }
}

pub type ReadResult<T> = Result<T, ReadError>;

/// The msgpack type a lead byte starts, in the words ringrpc's reader uses.
pub fn describe_byte(b: Option<u8>) -> &'static str {
    match b {
        None => "end of input",
        Some(0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3) => "int",
        Some(0x80..=0x8f | 0xde | 0xdf) => "map",
        Some(0x90..=0x9f | 0xdc | 0xdd) => "array",
        Some(0xa0..=0xbf | 0xd9..=0xdb) => "string",
        Some(0xc0) => "nil",
        Some(0xc1) => "reserved byte 0xc1",
        Some(0xc2 | 0xc3) => "bool",
        Some(0xc4..=0xc6) => "bin",
        Some(0xca | 0xcb) => "float",
        Some(_) => "ext",
    }
}

/// An integer as it came off the wire, kept signed or unsigned so PONG can
/// echo a PING's opaque value exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Int {
    U(u64),
    I(i64),
}

impl Int {
    pub fn as_i128(self) -> i128 {
        match self {
            Int::U(v) => v as i128,
            Int::I(v) => v as i128,
        }
    }
}

/// A cursor over one msgpack byte string.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    fn wrong(&self, expected: &'static str) -> ReadError {
        ReadError::WrongType { expected, found: describe_byte(self.buf.get(self.pos).copied()) }
    }

    pub fn peek(&self) -> ReadResult<u8> {
        self.buf.get(self.pos).copied().ok_or(ReadError::Truncated)
    }

    fn take(&mut self, n: usize) -> ReadResult<&'a [u8]> {
        if self.remaining() < n {
            return Err(ReadError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> ReadResult<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
    }

    /// True (and consumed) when the next value is nil.
    pub fn try_nil(&mut self) -> bool {
        if self.buf.get(self.pos) == Some(&0xc0) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn int(&mut self) -> ReadResult<Int> {
        let m = self.peek()?;
        let v = match m {
            0x00..=0x7f => Int::U(m as u64),
            0xe0..=0xff => Int::I(m as i8 as i64),
            0xcc => Int::U(self.skip_marker_then(1)?),
            0xcd => Int::U(self.skip_marker_then(2)?),
            0xce => Int::U(self.skip_marker_then(4)?),
            0xcf => Int::U(self.skip_marker_then(8)?),
            0xd0 => Int::I(self.skip_marker_then(1)? as u8 as i8 as i64),
            0xd1 => Int::I(self.skip_marker_then(2)? as u16 as i16 as i64),
            0xd2 => Int::I(self.skip_marker_then(4)? as u32 as i32 as i64),
            0xd3 => Int::I(self.skip_marker_then(8)? as i64),
            _ => return Err(self.wrong("int")),
        };
        if matches!(m, 0x00..=0x7f | 0xe0..=0xff) {
            self.pos += 1;
        }
        Ok(v)
    }

    fn skip_marker_then(&mut self, n: usize) -> ReadResult<u64> {
        self.pos += 1;
        self.be(n)
    }

    pub fn u32(&mut self) -> ReadResult<u32> {
        let v = self.int()?.as_i128();
        u32::try_from(v).map_err(|_| ReadError::Invalid("int out of range for u32"))
    }

    pub fn i32(&mut self) -> ReadResult<i32> {
        let v = self.int()?.as_i128();
        i32::try_from(v).map_err(|_| ReadError::Invalid("int out of range for i32"))
    }

    pub fn f64(&mut self) -> ReadResult<f64> {
        match self.peek()? {
            0xcb => {
                self.pos += 1;
                Ok(f64::from_bits(self.be(8)?))
            }
            0xca => {
                self.pos += 1;
                Ok(f32::from_bits(self.be(4)? as u32) as f64)
            }
            _ => match self.int() {
                Ok(i) => Ok(i.as_i128() as f64),
                Err(ReadError::WrongType { .. }) => Err(self.wrong("float")),
                Err(e) => Err(e),
            },
        }
    }

    fn len_of(&mut self, fix_base: u8, fix_max: u8, m8: Option<u8>, m16: u8, m32: u8, what: &'static str) -> ReadResult<usize> {
        let m = self.peek()?;
        let n = if m >= fix_base && m <= fix_max {
            self.pos += 1;
            (m - fix_base) as usize
        } else if Some(m) == m8 {
            self.pos += 1;
            self.be(1)? as usize
        } else if m == m16 {
            self.pos += 1;
            self.be(2)? as usize
        } else if m == m32 {
            self.pos += 1;
            self.be(4)? as usize
        } else {
            return Err(self.wrong(what));
        };
        Ok(n)
    }

    /// A str's raw bytes (UTF-8 not checked: see `str`).
    pub fn str_bytes(&mut self) -> ReadResult<&'a [u8]> {
        let n = self.len_of(0xa0, 0xbf, Some(0xd9), 0xda, 0xdb, "string")?;
        self.take(n)
    }

    pub fn str(&mut self) -> ReadResult<&'a str> {
        std::str::from_utf8(self.str_bytes()?).map_err(|_| ReadError::Invalid("invalid UTF-8 in str"))
    }

    pub fn bin(&mut self) -> ReadResult<&'a [u8]> {
        let n = self.len_of(0xff, 0x00, Some(0xc4), 0xc5, 0xc6, "bin")?;
        self.take(n)
    }

    /// An array header; the count is checked against the bytes left.
    pub fn array_len(&mut self) -> ReadResult<usize> {
        let n = self.len_of(0x90, 0x9f, None, 0xdc, 0xdd, "array")?;
        if n > self.remaining() {
            return Err(ReadError::Invalid("array count larger than the bytes left"));
        }
        Ok(n)
    }

    /// A map header; each entry takes at least 2 bytes.
    pub fn map_len(&mut self) -> ReadResult<usize> {
        let n = self.len_of(0x80, 0x8f, None, 0xde, 0xdf, "map")?;
        if n > self.remaining() / 2 {
            return Err(ReadError::Invalid("map count larger than half the bytes left"));
        }
        Ok(n)
    }

    /// Skips one value of any type, at most `MAX_NESTING` containers deep.
    pub fn skip(&mut self) -> ReadResult<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: u32) -> ReadResult<()> {
        let m = self.peek()?;
        match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => {
                self.pos += 1;
            }
            0xcc..=0xcf | 0xd0..=0xd3 => {
                self.int()?;
            }
            0xca | 0xcb => {
                self.f64()?;
            }
            0xa0..=0xbf | 0xd9..=0xdb => {
                self.str_bytes()?;
            }
            0xc4..=0xc6 => {
                self.bin()?;
            }
            0x90..=0x9f | 0xdc | 0xdd | 0x80..=0x8f | 0xde | 0xdf => {
                if depth >= MAX_NESTING {
                    return Err(ReadError::Invalid("values nested more than 64 deep"));
                }
                let is_map = matches!(m, 0x80..=0x8f | 0xde | 0xdf);
                let n = if is_map { self.map_len()? * 2 } else { self.array_len()? };
                for _ in 0..n {
                    self.skip_nested(depth + 1)?;
                }
            }
            // Timestamps (ext -1) are the only extension allowed anywhere.
            0xd6 | 0xd7 | 0xc7 => {
                let (len, hdr) = match m {
                    0xd6 => (4usize, 1usize),
                    0xd7 => (8, 1),
                    _ => (self.buf.get(self.pos + 1).copied().ok_or(ReadError::Truncated)? as usize, 2),
                };
                let ty = *self.buf.get(self.pos + hdr).ok_or(ReadError::Truncated)?;
                if ty != 0xff || !matches!(len, 4 | 8 | 12) {
                    return Err(ReadError::Invalid("an extension other than timestamp"));
                }
                self.pos += hdr + 1;
                self.take(len)?;
            }
            _ => return Err(ReadError::Invalid("an extension or reserved byte (0xc1)")),
        }
        Ok(())
    }
}

/// Appends msgpack values to a Vec in the smallest form.
pub struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }

    pub fn nil(&mut self) {
        self.out.push(0xc0);
    }

    pub fn uint(&mut self, v: u64) {
        if v < 0x80 {
            self.out.push(v as u8);
        } else if v <= 0xff {
            self.out.extend_from_slice(&[0xcc, v as u8]);
        } else if v <= 0xffff {
            self.out.push(0xcd);
            self.out.extend_from_slice(&(v as u16).to_be_bytes());
        } else if v <= 0xffff_ffff {
            self.out.push(0xce);
            self.out.extend_from_slice(&(v as u32).to_be_bytes());
        } else {
            self.out.push(0xcf);
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }

    pub fn int(&mut self, v: i64) {
        if v >= 0 {
            self.uint(v as u64)
        } else if v >= -32 {
            self.out.push(v as i8 as u8);
        } else if v >= i8::MIN as i64 {
            self.out.extend_from_slice(&[0xd0, v as i8 as u8]);
        } else if v >= i16::MIN as i64 {
            self.out.push(0xd1);
            self.out.extend_from_slice(&(v as i16).to_be_bytes());
        } else if v >= i32::MIN as i64 {
            self.out.push(0xd2);
            self.out.extend_from_slice(&(v as i32).to_be_bytes());
        } else {
            self.out.push(0xd3);
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }

    pub fn int_value(&mut self, v: Int) {
        match v {
            Int::U(u) => self.uint(u),
            Int::I(i) => self.int(i),
        }
    }

    pub fn f64(&mut self, v: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    fn header(&mut self, n: usize, fix_base: u8, fix_max: usize, m8: Option<u8>, m16: u8, m32: u8) {
        if n <= fix_max {
            self.out.push(fix_base | n as u8);
        } else if let (Some(m), true) = (m8, n <= 0xff) {
            self.out.extend_from_slice(&[m, n as u8]);
        } else if n <= 0xffff {
            self.out.push(m16);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.out.push(m32);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    pub fn str(&mut self, s: &str) {
        self.header(s.len(), 0xa0, 31, Some(0xd9), 0xda, 0xdb);
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn bin(&mut self, b: &[u8]) {
        // bin has no fix form: a length-0 "fix" range is never hit.
        if b.len() <= 0xff {
            self.out.extend_from_slice(&[0xc4, b.len() as u8]);
        } else {
            self.header(b.len(), 0x00, 0, None, 0xc5, 0xc6);
        }
        self.out.extend_from_slice(b);
    }

    pub fn array_len(&mut self, n: usize) {
        self.header(n, 0x90, 15, None, 0xdc, 0xdd);
    }

    pub fn map_len(&mut self, n: usize) {
        self.header(n, 0x80, 15, None, 0xde, 0xdf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut Writer::new(&mut v));
        v
    }

    #[test]
    fn smallest_int_forms_match_encoding_md() {
        assert_eq!(enc(|w| w.uint(127)), [0x7f]);
        assert_eq!(enc(|w| w.uint(128)), [0xcc, 0x80]);
        assert_eq!(enc(|w| w.uint(256)), [0xcd, 1, 0]);
        assert_eq!(enc(|w| w.int(-33)), [0xd0, 0xdf]);
        assert_eq!(enc(|w| w.int(-129)), [0xd1, 0xff, 0x7f]);
        assert_eq!(enc(|w| w.int(-(1i64 << 31) - 1)), [0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]);
        assert_eq!(enc(|w| w.bin(&[1, 2])), [0xc4, 2, 1, 2]);
    }

    #[test]
    fn reads_every_int_form() {
        for (bytes, want) in [(&[0xd0u8, 0x05][..], 5i128), (&[0xcd, 0, 7], 7), (&[0xff], -1), (&[0xd1, 0xff, 0x7f], -129)] {
            assert_eq!(Reader::new(bytes).int().unwrap().as_i128(), want);
        }
    }

    #[test]
    fn skip_rejects_deep_nesting_and_foreign_extensions() {
        let deep = vec![0x91u8; 100];
        assert!(Reader::new(&deep).skip().is_err());
        assert!(Reader::new(&[0xd6, 0x01, 0, 0, 0, 0]).skip().is_err());
        assert!(Reader::new(&[0xd6, 0xff, 0, 0, 0, 1]).skip().is_ok());
    }
}
