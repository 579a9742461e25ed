/**
 * Per-message compression (docs/PROTOCOL.md section 2, "HELLO extensions",
 * and section 3, "Compressed messages"): the algorithms, their ids in frame
 * flags, the options a server or channel takes, which algorithm a sender
 * uses for a peer, and bounded compress/decompress of one message's bytes.
 * Decompression never produces more than the receiver's limit: the output
 * is capped while it is produced (zlib's maxOutputLength), so a
 * decompression bomb costs at most the limit, and fails with
 * RESOURCE_EXHAUSTED. Knows nothing about frames (message-compression.ts).
 */
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { RpcError, Status } from "./status.ts";

export type CompressionAlgorithm = "gzip" | "zstd";

/** Bits 4-5 of REQUEST and MESSAGE flags: the algorithm the message is compressed with, 0 for none. */
export const COMPRESSION_SHIFT = 4;
export const COMPRESSION_MASK = 0b11 << COMPRESSION_SHIFT;

/** An algorithm's id in the flags (3 is reserved). */
export const ALGORITHM_IDS: Readonly<Record<CompressionAlgorithm, number>> = { gzip: 1, zstd: 2 };
const NAMES: readonly string[] = ["", "gzip", "zstd"];

export const DEFAULT_COMPRESSION_MIN_BYTES = 1024;

/** `compression` of ServerOptions and ChannelOptions. */
export interface CompressionOptions {
  /** What this side accepts (advertised in its HELLO) and, in this order of preference, may send with. */
  algorithms: readonly CompressionAlgorithm[];
  /** A message is sent compressed only from this many encoded bytes on (default 1024). */
  minBytes?: number;
}

/** Resolved options of one side. */
export interface Compression {
  /** Bit `1 << id` for every algorithm this side accepts. */
  readonly accepts: number;
  /** Accepted algorithms, preferred first (the HELLO lists them in this order). */
  readonly algorithms: readonly CompressionAlgorithm[];
  readonly minBytes: number;
}

/** zstd needs Bun's built-in zstd (Bun.zstdCompressSync) and node:zlib's zstdDecompressSync. */
export function zstdAvailable(): boolean {
  return typeof Bun.zstdCompressSync === "function" && typeof zstdDecompressSync === "function";
}

/** The algorithms this process can use. */
export function availableAlgorithms(): CompressionAlgorithm[] {
  return zstdAvailable() ? ["gzip", "zstd"] : ["gzip"];
}

/** Checks options at start-up (`where` names them in the error); null when compression is off. */
export function resolveCompression(opts: CompressionOptions | undefined, where: string): Compression | null {
  if (opts === undefined) return null;
  const algorithms = [...new Set(opts.algorithms)];
  const minBytes = opts.minBytes ?? DEFAULT_COMPRESSION_MIN_BYTES;
  if (!Number.isInteger(minBytes) || minBytes < 0) throw new TypeError(`${where}.minBytes must be an integer >= 0, got ${String(opts.minBytes)}`);
  let accepts = 0;
  for (const a of algorithms) {
    const id = ALGORITHM_IDS[a];
    if (id === undefined) throw new TypeError(`${where}.algorithms: unknown algorithm ${JSON.stringify(a)}; known: gzip, zstd`);
    if (a === "zstd" && !zstdAvailable()) throw new TypeError(`${where}.algorithms: zstd needs a Bun with built-in zstd (Bun.zstdCompressSync); this one has none`);
    accepts |= 1 << id;
  }
  return algorithms.length === 0 ? null : { accepts, algorithms, minBytes };
}

/** The algorithm names of a HELLO's list this side knows, as an accept mask; unknown names are ignored (a newer peer may list more). */
export function acceptMask(names: readonly string[]): number {
  let mask = 0;
  for (const n of names) {
    const id = NAMES.indexOf(n);
    if (id > 0) mask |= 1 << id;
  }
  return mask;
}

/** Compresses outgoing messages for one connection with one algorithm the peer accepts. */
export class MessageCompressor {
  constructor(
    /** The algorithm's id in the flags. */
    readonly id: number,
    readonly minBytes: number,
  ) {}

  compress(bytes: Uint8Array): Uint8Array {
    const b = bytes as Uint8Array<ArrayBuffer>; // a view of a writer's buffer, never a SharedArrayBuffer
    return this.id === ALGORITHM_IDS.gzip ? Bun.gzipSync(b) : Bun.zstdCompressSync(b);
  }
}

/** This side's first algorithm the peer accepts, or null: a peer that advertised none never receives a compressed message. */
export function pickCompressor(own: Compression | null, peerAccepts: number): MessageCompressor | null {
  if (own === null || peerAccepts === 0) return null;
  for (const a of own.algorithms) {
    const id = ALGORITHM_IDS[a];
    if ((peerAccepts & (1 << id)) !== 0) return new MessageCompressor(id, own.minBytes);
  }
  return null;
}

/**
 * The bytes of a message compressed with algorithm `id`, at most `maxBytes`
 * of them. Throws RpcError: UNIMPLEMENTED for an algorithm this side did not
 * advertise (`accepts`), RESOURCE_EXHAUSTED when the output would pass
 * `maxBytes` (nothing beyond it is allocated), INTERNAL when the data is not
 * valid for the algorithm.
 */
export function decompress(id: number, data: Uint8Array, accepts: number, maxBytes: number): Uint8Array {
  const name = NAMES[id] ?? `algorithm ${id}`;
  if ((accepts & (1 << id)) === 0) throw new RpcError(Status.UNIMPLEMENTED, `message compressed with ${name}, which this side did not advertise in its HELLO`);
  try {
    return id === ALGORITHM_IDS.gzip ? gunzipSync(data, { maxOutputLength: maxBytes }) : zstdDecompressSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new RpcError(Status.RESOURCE_EXHAUSTED, `${name}-compressed message of ${data.length} bytes decompresses to more than the limit of ${maxBytes} bytes`);
    throw new RpcError(Status.INTERNAL, `${name}-compressed message of ${data.length} bytes is corrupt: ${e instanceof Error ? e.message : String(e)}`);
  }
}
