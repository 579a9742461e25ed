/**
 * Metadata on the wire (docs/PROTOCOL.md section 5): a msgpack map of
 * lower-case ASCII keys to a str or bin value, or to an array of them when
 * a key has several values (a key with one value is written exactly as
 * before arrays existed), with a byte-size limit that counts every value.
 * Owns encoding, decoding and the key/size checks; the multi-valued API is
 * metadata-map.ts.
 */
import { DecodeError } from "../codec/errors.ts";
import { peerText } from "../codec/peer-text.ts";
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import type { Metadata } from "./descriptor.ts";
import { attachValues, extraValues, isValidMetadataKey, MetadataMap, type MetadataValue, recordValues } from "./metadata-map.ts";

export { isValidMetadataKey } from "./metadata-map.ts";

const utf8 = new TextEncoder();

function writeValue(w: MsgWriter, v: MetadataValue): void {
  if (typeof v === "string") w.str(v);
  else w.bin(v);
}

/** One key's values: a lone value as itself (the only form before arrays), several as an array. */
function writeValues(w: MsgWriter, vs: readonly MetadataValue[]): void {
  if (vs.length === 1) return writeValue(w, vs[0]!);
  w.arrayHeader(vs.length);
  for (const v of vs) writeValue(w, v);
}

/** Writes md as a map, or nil when it is undefined or empty. A record's keys with several values (metadata-map.ts) are written with all of them. */
export function writeMetadata(w: MsgWriter, md: Metadata | MetadataMap | undefined): void {
  if (md === undefined) return w.nil();
  if (md instanceof MetadataMap) return writeMap(w, md);
  const keys = Object.keys(md);
  if (keys.length === 0) return w.nil();
  w.mapHeader(keys.length);
  const extra = extraValues(md);
  for (const k of keys) {
    w.str(k);
    if (extra === undefined) writeValue(w, md[k]!);
    else writeValues(w, recordValues(md, k)!);
  }
}

function writeMap(w: MsgWriter, md: MetadataMap): void {
  if (md.size === 0) return w.nil();
  w.mapHeader(md.size);
  for (const k of md.keys()) {
    w.str(k);
    writeValues(w, md.valuesOf(k)!);
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

function isArrayLead(b: number): boolean {
  return (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
}

/** Reads one str or bin value; returns it and adds its byte length to `sizes[0]`. */
function readValue(r: MsgReader, sizes: number[]): MetadataValue {
  const b = r.peekByte();
  const start = r.pos;
  const v = b === 0xc4 || b === 0xc5 || b === 0xc6 ? r.bin() : r.str();
  sizes[0]! += r.pos - start - headerBytes(b);
  return v;
}

const valueSize = [0];

/**
 * Reads a metadata map or nil. A value may be an array of one or more str/bin
 * (a key with several values): the record shows the first, and keeps all
 * (metadata-map.ts). The size counts the key once per value plus every
 * value's bytes, so many tiny values cannot pass for a small map. Throws
 * MetadataError when a key is invalid or the total size passes maxBytes (the
 * map is still consumed, so the caller may read on; entries past the limit
 * are skipped, not kept), DecodeError when the bytes are not a map of str to
 * str/bin/non-empty array of str/bin.
 */
export function readMetadata(r: MsgReader, maxBytes: number): Metadata | undefined {
  if (r.peekNil()) {
    r.nil();
    return undefined;
  }
  const n = r.mapHeader();
  const md: Metadata = Object.create(null);
  let multi: Map<string, MetadataValue[]> | null = null;
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
    const keyBytes = r.pos - keyStart - headerBytes(r.buf[keyStart]!);
    if (!isArrayLead(r.peekByte())) {
      valueSize[0] = 0;
      const value = readValue(r, valueSize);
      size += keyBytes + valueSize[0]!;
      if (size > maxBytes) problem = sizeProblem(maxBytes);
      else if (!isValidMetadataKey(key)) problem = keyProblem(key);
      else {
        md[key] = value;
        multi?.delete(key);
      }
      continue;
    }
    const count = r.arrayHeader();
    if (count === 0) throw new DecodeError(`metadata value of ${peerText(key, { quote: true })} is an empty array`);
    const values: MetadataValue[] = [];
    let j = 0;
    for (; j < count; j++) {
      valueSize[0] = 0;
      const value = readValue(r, valueSize);
      size += keyBytes + valueSize[0]!;
      if (size > maxBytes) {
        problem = sizeProblem(maxBytes);
        break;
      }
      values.push(value);
    }
    if (problem !== null) {
      for (j++; j < count; j++) r.skip();
      continue;
    }
    if (!isValidMetadataKey(key)) {
      problem = keyProblem(key);
      continue;
    }
    md[key] = values[0]!;
    if (values.length > 1) (multi ??= new Map()).set(key, values);
    else multi?.delete(key);
  }
  if (problem !== null) throw problem;
  return multi === null || multi.size === 0 ? md : attachValues(md, multi);
}

function sizeProblem(maxBytes: number): MetadataError {
  return new MetadataError("size", `metadata is over the limit of ${maxBytes} bytes`);
}

function keyProblem(key: string): MetadataError {
  return new MetadataError("key", `invalid metadata key ${peerText(key, { quote: true })}: keys are 1-255 bytes of [a-z0-9._-]`);
}

/** The size the limits count: per value, the key's and the value's UTF-8 byte lengths. */
export function metadataSize(md: Metadata | MetadataMap): number {
  let size = 0;
  const add = (k: string, vs: readonly MetadataValue[]) => {
    const kb = utf8.encode(k).length;
    for (const v of vs) size += kb + (typeof v === "string" ? utf8.encode(v).length : v.length);
  };
  if (md instanceof MetadataMap) for (const [k, vs] of md.entries()) add(k, vs);
  else for (const k of Object.keys(md)) add(k, recordValues(md, k)!);
  return size;
}
