//! bench.v1.Bench (bench/bench.ridl) for the Tokio baseline: the request and
//! reply structs, their int-keyed-map codecs (docs/ENCODING.md) and the
//! handlers. Decoding borrows from the frame; a bad message becomes a
//! `FieldError` naming the field path, which the connection turns into STATUS
//! INVALID_ARGUMENT. Knows nothing about frames or sockets.

use crate::msgpack::{ReadError, ReadResult, Reader, Writer};

pub const ECHO: &[u8] = b"bench.v1.Bench/echo";
pub const ECHO_TEXT: &[u8] = b"bench.v1.Bench/echoText";
pub const ADD: &[u8] = b"bench.v1.Bench/add";
pub const ORDER: &[u8] = b"bench.v1.Bench/order";
pub const TICKS: &[u8] = b"bench.v1.Bench/ticks";

/// A request message that failed to decode: `path` names the field.
#[derive(Debug)]
pub struct FieldError {
    pub path: String,
    pub reason: ReadError,
}

impl FieldError {
    pub fn message(&self) -> String {
        // The same shape as ringrpc's DecodeError: "items[0].price: expected float but found string".
        if self.path.is_empty() {
            self.reason.describe()
        } else {
            format!("{}: {}", self.path, self.reason.describe())
        }
    }
}

type FieldResult<T> = Result<T, FieldError>;

fn at<T>(r: ReadResult<T>, path: impl FnOnce() -> String) -> FieldResult<T> {
    r.map_err(|reason| FieldError { path: path(), reason })
}

fn missing(path: &str) -> FieldError {
    FieldError { path: path.to_string(), reason: ReadError::Invalid("missing required field") }
}

/// Walks a struct map: calls `field(id, reader)` per entry; unknown ids must
/// be skipped by the callback (return Ok(false) and the walker skips).
fn read_struct<'a>(
    r: &mut Reader<'a>,
    prefix: &str,
    mut field: impl FnMut(u64, &mut Reader<'a>) -> FieldResult<bool>,
) -> FieldResult<()> {
    let n = at(r.map_len(), || prefix.to_string())?;
    for _ in 0..n {
        let id = match at(r.int(), || prefix.to_string())?.as_i128() {
            id @ 1..=0x1fff_ffff => id as u64,
            _ => return Err(FieldError { path: prefix.to_string(), reason: ReadError::Invalid("field id out of range") }),
        };
        if !field(id, r)? {
            at(r.skip(), || prefix.to_string())?;
        }
    }
    Ok(())
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

// ---- echo / echoText -------------------------------------------------------

pub struct EchoRequest<'a> {
    pub data: &'a [u8],
}

pub fn decode_echo<'a>(r: &mut Reader<'a>) -> FieldResult<EchoRequest<'a>> {
    let mut data = None;
    read_struct(r, "", |id, r| {
        if id != 1 {
            return Ok(false);
        }
        data = Some(at(r.bin(), || "data".into())?);
        Ok(true)
    })?;
    Ok(EchoRequest { data: data.ok_or_else(|| missing("data"))? })
}

/// EchoReply { 1: data } carrying the request's bytes back.
pub fn encode_echo_reply(w: &mut Writer, req: &EchoRequest) {
    w.map_len(1);
    w.uint(1);
    w.bin(req.data);
}

pub struct TextRequest<'a> {
    pub text: &'a str,
}

pub fn decode_text<'a>(r: &mut Reader<'a>) -> FieldResult<TextRequest<'a>> {
    let mut text = None;
    read_struct(r, "", |id, r| {
        if id != 1 {
            return Ok(false);
        }
        text = Some(at(r.str(), || "text".into())?);
        Ok(true)
    })?;
    Ok(TextRequest { text: text.ok_or_else(|| missing("text"))? })
}

pub fn encode_text_reply(w: &mut Writer, req: &TextRequest) {
    w.map_len(1);
    w.uint(1);
    w.str(req.text);
}

// ---- add ---------------------------------------------------------------------

pub struct AddRequest {
    pub a: i32,
    pub b: i32,
}

pub fn decode_add(r: &mut Reader) -> FieldResult<AddRequest> {
    let (mut a, mut b) = (None, None);
    read_struct(r, "", |id, r| {
        match id {
            1 => a = Some(at(r.i32(), || "a".into())?),
            2 => b = Some(at(r.i32(), || "b".into())?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(AddRequest { a: a.ok_or_else(|| missing("a"))?, b: b.ok_or_else(|| missing("b"))? })
}

/// AddReply { 1: sum: i64 }: i32 + i32 cannot overflow i64.
pub fn encode_add_reply(w: &mut Writer, req: &AddRequest) {
    w.map_len(1);
    w.uint(1);
    w.int(req.a as i64 + req.b as i64);
}

// ---- order -------------------------------------------------------------------

pub struct Item<'a> {
    pub id: u32,
    pub name: &'a str,
    pub price: f64,
    pub quantity: u32,
    pub tags: Vec<&'a str>,
    pub attrs: Vec<(&'a str, &'a str)>,
}

pub struct OrderRequest<'a> {
    pub customer: &'a str,
    pub items: Vec<Item<'a>>,
    pub note: Option<&'a str>,
}

fn decode_item<'a>(r: &mut Reader<'a>, path: &str) -> FieldResult<Item<'a>> {
    let (mut id, mut name, mut price, mut quantity, mut tags, mut attrs) = (None, None, None, None, None, None);
    read_struct(r, path, |fid, r| {
        match fid {
            1 => id = Some(at(r.u32(), || join(path, "id"))?),
            2 => name = Some(at(r.str(), || join(path, "name"))?),
            3 => price = Some(at(r.f64(), || join(path, "price"))?),
            4 => quantity = Some(at(r.u32(), || join(path, "quantity"))?),
            5 => {
                let n = at(r.array_len(), || join(path, "tags"))?;
                let mut v = Vec::with_capacity(n);
                for i in 0..n {
                    v.push(at(r.str(), || format!("{}[{i}]", join(path, "tags")))?);
                }
                tags = Some(v);
            }
            6 => {
                let n = at(r.map_len(), || join(path, "attrs"))?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = at(r.str(), || join(path, "attrs"))?;
                    let val = at(r.str(), || format!("{}[\"{k}\"]", join(path, "attrs")))?;
                    // Duplicate keys: the last one wins (ENCODING.md section 5).
                    match v.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => *slot = (k, val),
                        None => v.push((k, val)),
                    }
                }
                attrs = Some(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Item {
        id: id.ok_or_else(|| missing(&join(path, "id")))?,
        name: name.ok_or_else(|| missing(&join(path, "name")))?,
        price: price.ok_or_else(|| missing(&join(path, "price")))?,
        quantity: quantity.ok_or_else(|| missing(&join(path, "quantity")))?,
        tags: tags.ok_or_else(|| missing(&join(path, "tags")))?,
        attrs: attrs.ok_or_else(|| missing(&join(path, "attrs")))?,
    })
}

pub fn decode_order<'a>(r: &mut Reader<'a>) -> FieldResult<OrderRequest<'a>> {
    let (mut customer, mut items, mut note) = (None, None, None);
    read_struct(r, "", |id, r| {
        match id {
            1 => customer = Some(at(r.str(), || "customer".into())?),
            2 => {
                let n = at(r.array_len(), || "items".into())?;
                let mut v = Vec::with_capacity(n);
                for i in 0..n {
                    v.push(decode_item(r, &format!("items[{i}]"))?);
                }
                items = Some(v);
            }
            // An optional field sent as nil is absent.
            3 => note = if r.try_nil() { None } else { Some(at(r.str(), || "note".into())?) },
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(OrderRequest {
        customer: customer.ok_or_else(|| missing("customer"))?,
        items: items.ok_or_else(|| missing("items"))?,
        note,
    })
}

fn encode_item(w: &mut Writer, item: &Item) {
    w.map_len(6);
    w.uint(1);
    w.uint(item.id as u64);
    w.uint(2);
    w.str(item.name);
    w.uint(3);
    w.f64(item.price);
    w.uint(4);
    w.uint(item.quantity as u64);
    w.uint(5);
    w.array_len(item.tags.len());
    for t in &item.tags {
        w.str(t);
    }
    w.uint(6);
    w.map_len(item.attrs.len());
    for (k, v) in &item.attrs {
        w.str(k);
        w.str(v);
    }
}

/// OrderReply { customer, total = sum(price * quantity), count, items }.
/// The sum starts at +0.0 and adds in item order (bench.ridl), so it matches
/// the other peers bit for bit (`Sum for f64` may start at -0.0, which would
/// make the empty order's total -0.0).
pub fn encode_order_reply(w: &mut Writer, req: &OrderRequest) {
    let total: f64 = req.items.iter().fold(0.0, |acc, i| acc + i.price * i.quantity as f64);
    w.map_len(4);
    w.uint(1);
    w.str(req.customer);
    w.uint(2);
    w.f64(total);
    w.uint(3);
    w.uint(req.items.len() as u64);
    w.uint(4);
    w.array_len(req.items.len());
    for item in &req.items {
        encode_item(w, item);
    }
}

// ---- ticks -------------------------------------------------------------------

pub struct TickRequest {
    pub count: u32,
    pub size: u32,
}

pub fn decode_ticks(r: &mut Reader) -> FieldResult<TickRequest> {
    let (mut count, mut size) = (None, None);
    read_struct(r, "", |id, r| {
        match id {
            1 => count = Some(at(r.u32(), || "count".into())?),
            2 => size = Some(at(r.u32(), || "size".into())?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(TickRequest { count: count.ok_or_else(|| missing("count"))?, size: size.ok_or_else(|| missing("size"))? })
}

/// Tick { 1: seq, 2: data }: `data` is `size` bytes of the low byte of seq.
pub fn encode_tick(w: &mut Writer, seq: u32, size: u32) {
    w.map_len(2);
    w.uint(1);
    w.uint(seq as u64);
    w.uint(2);
    let n = size as usize;
    match n {
        0..=0xff => w.out.extend_from_slice(&[0xc4, n as u8]),
        0x100..=0xffff => {
            w.out.push(0xc5);
            w.out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            w.out.push(0xc6);
            w.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    w.out.resize(w.out.len() + n, seq as u8);
}

/// Bytes one Tick body takes at most beyond its data (map, ids, headers).
pub const TICK_OVERHEAD: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_echo_and_skips_unknown_fields() {
        // {9: [1, 2], 1: bin 01 02}
        let bytes = [0x82, 0x09, 0x92, 0x01, 0x02, 0x01, 0xc4, 0x02, 0x01, 0x02];
        let req = decode_echo(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(req.data, &[1, 2]);
        let mut out = Vec::new();
        encode_echo_reply(&mut Writer::new(&mut out), &req);
        assert_eq!(out, [0x81, 0x01, 0xc4, 0x02, 0x01, 0x02]);
    }

    #[test]
    fn tick_data_is_size_bytes_of_the_low_byte_of_seq() {
        let mut out = Vec::new();
        encode_tick(&mut Writer::new(&mut out), 258, 3);
        assert_eq!(out, [0x82, 0x01, 0xcd, 0x01, 0x02, 0x02, 0xc4, 0x03, 0x02, 0x02, 0x02]);
    }

    #[test]
    fn names_the_missing_and_the_mistyped_field() {
        let e = decode_add(&mut Reader::new(&[0x81, 0x01, 0x05])).err().unwrap();
        assert_eq!(e.path, "b");
        let item = [0x82, 0x01, 0xa1, 0x63, 0x02, 0x91, 0x81, 0x01, 0xa1, 0x78];
        let e = decode_order(&mut Reader::new(&item)).err().unwrap();
        assert_eq!(e.path, "items[0].id");
    }
}
