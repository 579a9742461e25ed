/**
 * HELLO's optional 8th element (docs/PROTOCOL.md section 2, "HELLO
 * extensions"): a map of what a side supports beyond version 1's limits.
 * Two keys today: `compression`, the algorithms the sender accepts, and
 * `metadata`, `"multi"` when the sender reads several values per metadata
 * key (an array). A side with nothing to announce sends the 7-element HELLO
 * of version 1, so an old peer sees exactly what it always saw; an old peer
 * ignores the element (readers skip trailing elements they do not know)
 * and, advertising nothing, never receives a compressed message or a
 * metadata array.
 */
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import { acceptMask, type Compression } from "./compression.ts";

/** What this side announces. */
export interface HelloOffer {
  /** The algorithms this side accepts (null: none, no `compression` key). */
  readonly compression: Compression | null;
  /** This side reads several values per metadata key (`"metadata": "multi"`). */
  readonly multiValuedMetadata: boolean;
}

/** What a peer's HELLO extensions said. */
export interface PeerExtensions {
  /** Bit `1 << id` per compression algorithm the peer accepts (compression.ts). */
  compression: number;
  /** The peer reads a metadata value that is an array (several values for a key). */
  multiValuedMetadata: boolean;
}

/** The `metadata` value of a side that reads several values per key. */
const MULTI = "multi";

/** True when `offer` has anything to announce: only then does the HELLO have an 8th element. */
export function hasExtensions(offer: HelloOffer): boolean {
  return offer.compression !== null || offer.multiValuedMetadata;
}

/** Writes the extensions map: `{"compression": [names...], "metadata": "multi"}`, each key only when announced. */
export function writeHelloExtensions(w: MsgWriter, offer: HelloOffer): void {
  const { compression, multiValuedMetadata } = offer;
  w.mapHeader((compression === null ? 0 : 1) + (multiValuedMetadata ? 1 : 0));
  if (compression !== null) {
    w.str("compression");
    w.arrayHeader(compression.algorithms.length);
    for (const a of compression.algorithms) w.str(a);
  }
  if (multiValuedMetadata) {
    w.str("metadata");
    w.str(MULTI);
  }
}

/**
 * Reads the extensions map. Unknown keys are skipped (a later version may
 * add some), unknown algorithm names and `metadata` values ignored; a value
 * of the wrong shape (not a map, a `compression` that is not an array of
 * str, a `metadata` that is not a str) throws DecodeError: MALFORMED_FRAME
 * like any bad field.
 */
export function readHelloExtensions(r: MsgReader): PeerExtensions {
  const n = r.mapHeader();
  let compression = 0;
  let multiValuedMetadata = false;
  for (let i = 0; i < n; i++) {
    const key = r.str();
    if (key === "compression") {
      const count = r.arrayHeader();
      const names: string[] = [];
      for (let j = 0; j < count; j++) names.push(r.str());
      compression = acceptMask(names);
    } else if (key === "metadata") multiValuedMetadata = r.str() === MULTI;
    else r.skip();
  }
  return { compression, multiValuedMetadata };
}
