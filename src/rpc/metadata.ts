/**
 * Metadata on the wire (docs/PROTOCOL.md section 5): a msgpack map of
 * lower-case ASCII keys to str or bin values, with a byte-size limit.
 * Owns encoding, decoding and the key/size checks.
 */
import { peerText } from "../codec/peer-text.ts";
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import type { Metadata } from "./descriptor.ts";

const utf8 = new TextEncoder();

/** A key is 1-255 bytes of [a-z0-9._-]. */
export function isValidMetadataKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 255) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** Writes md as a map, or nil when it is undefined or empty. */
export function writeMetadata(w: MsgWriter, md: Metadata | undefined): void {
  if (md === undefined) return w.nil();
  const keys = Object.keys(md);
  if (keys.length === 0) return w.nil();
  w.mapHeader(keys.length);
  for (const k of keys) {
    w.str(k);
    const v = md[k]!;
    if (typeof v === "string") w.str(v);
    else w.bin(v);
  }
}

/** Why a metadata map was refused: "size" (RESOURCE_EXHAUSTED) or "key" (INVALID_ARGUMENT). */
export class MetadataError extends Error {
  override name = "MetadataError";
  constructor(readonly kind: "size" | "key", message: string) {
    super(message);
  }
}

/** Bytes of a str/bin header, from its lead byte. */
function headerBytes(b: number): number {
  if (b >= 0xa0 && b <= 0xbf) return 1;
  if (b === 0xd9 || b === 0xc4) return 2;
  if (b === 0xda || b === 0xc5) return 3;
  return 5;
}

/**
 * Reads a metadata map or nil. Throws MetadataError when a key is invalid or
 * the total size passes maxBytes (the map is still consumed, so the caller
 * may read on; entries past the limit are skipped, not kept), DecodeError
 * when the bytes are not a map of str to str/bin.
 */
export function readMetadata(r: MsgReader, maxBytes: number): Metadata | undefined {
  if (r.peekNil()) {
    r.nil();
    return undefined;
  }
  const n = r.mapHeader();
  const md: Metadata = Object.create(null);
  let problem: MetadataError | null = null;
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (problem !== null) {
      r.skip();
      r.skip();
      continue;
    }
    const keyStart = r.pos;
    const key = r.str();
    const b = r.peekByte();
    const value: string | Uint8Array = b === 0xc4 || b === 0xc5 || b === 0xc6 ? r.bin() : r.str();
    size += r.pos - keyStart - headerBytes(r.buf[keyStart]!) - headerBytes(b);
    if (size > maxBytes) problem = new MetadataError("size", `metadata is over the limit of ${maxBytes} bytes`);
    else if (!isValidMetadataKey(key)) problem = new MetadataError("key", `invalid metadata key ${peerText(key, { quote: true })}: keys are 1-255 bytes of [a-z0-9._-]`);
    else md[key] = value;
  }
  if (problem !== null) throw problem;
  return md;
}

/** Sum of key and value byte lengths (the size the limits count). */
export function metadataSize(md: Metadata): number {
  let size = 0;
  for (const k in md) {
    const v = md[k]!;
    size += utf8.encode(k).length + (typeof v === "string" ? utf8.encode(v).length : v.length);
  }
  return size;
}
