/**
 * HELLO's optional 8th element (docs/PROTOCOL.md section 2, "HELLO
 * extensions"): a map of what a side supports beyond version 1's limits.
 * Today one key, `compression`, the algorithms the sender accepts. A side
 * with nothing to announce sends the 7-element HELLO of version 1, so an old
 * peer sees exactly what it always saw; an old peer ignores the element
 * (readers skip trailing elements they do not know) and, advertising
 * nothing, never receives a compressed message.
 */
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import { acceptMask, type Compression } from "./compression.ts";

/** What a peer's HELLO extensions said. */
export interface PeerExtensions {
  /** Bit `1 << id` per compression algorithm the peer accepts (compression.ts). */
  compression: number;
}

export const NO_EXTENSIONS: PeerExtensions = Object.freeze({ compression: 0 });

/** Writes the extensions map: `{"compression": [names...]}`. */
export function writeHelloExtensions(w: MsgWriter, compression: Compression): void {
  w.mapHeader(1);
  w.str("compression");
  w.arrayHeader(compression.algorithms.length);
  for (const a of compression.algorithms) w.str(a);
}

/**
 * Reads the extensions map. Unknown keys are skipped (a later version may
 * add some), unknown algorithm names ignored; a value of the wrong shape (not
 * a map, a `compression` that is not an array of str) throws DecodeError:
 * MALFORMED_FRAME like any bad field.
 */
export function readHelloExtensions(r: MsgReader): PeerExtensions {
  const n = r.mapHeader();
  let compression = 0;
  for (let i = 0; i < n; i++) {
    const key = r.str();
    if (key !== "compression") {
      r.skip();
      continue;
    }
    const count = r.arrayHeader();
    const names: string[] = [];
    for (let j = 0; j < count; j++) names.push(r.str());
    compression = acceptMask(names);
  }
  return { compression };
}
