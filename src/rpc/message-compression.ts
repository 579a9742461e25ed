/**
 * Compressed messages inside frames (docs/PROTOCOL.md section 3,
 * "Compressed messages"): on the way out, a message already encoded in the
 * connection's writer is replaced by a `bin` of its compressed bytes and the
 * algorithm's id is set in the frame's flags byte; on the way in, a frame
 * whose flags name an algorithm gets a reader over the decompressed message
 * (bounded by the receiver's maxFrameBytes, compression.ts). Owns no frame
 * layout beyond that: frames.ts calls it.
 */
import { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import { COMPRESSION_MASK, COMPRESSION_SHIFT, decompress, type MessageCompressor } from "./compression.ts";
import { RpcError, Status } from "./status.ts";

/** A compressed message must save at least this many bytes to be sent compressed (its bin header takes up to 5). */
const MIN_SAVING_BYTES = 8;

/**
 * The compressed bytes of w.buf[msgStart, w.pos) when they are worth
 * sending (smaller by MIN_SAVING_BYTES), else null. Incompressible messages
 * (random bytes, already compressed media) so go out as they are.
 */
export function compressedBody(w: MsgWriter, msgStart: number, c: MessageCompressor): Uint8Array | null {
  const n = w.pos - msgStart;
  const packed = c.compress(w.buf.subarray(msgStart, w.pos));
  return packed.length + MIN_SAVING_BYTES <= n ? packed : null;
}

/**
 * Compresses the message just encoded at w.buf[msgStart, w.pos), whose
 * frame's flags are the one byte at `flagsAt` (a positive fixint: flags stay
 * under 0x80), when that pays: the message becomes a bin of its compressed
 * bytes and the flags get the algorithm's id.
 */
export function compressInPlace(w: MsgWriter, flagsAt: number, msgStart: number, c: MessageCompressor): void {
  const packed = compressedBody(w, msgStart, c);
  if (packed === null) return;
  w.pos = msgStart;
  w.bin(packed);
  w.buf[flagsAt] = w.buf[flagsAt]! | (c.id << COMPRESSION_SHIFT);
}

/** True when a frame's flags say its message is compressed. */
export function isCompressed(flags: number): boolean {
  return (flags & COMPRESSION_MASK) !== 0;
}

/** Decompresses incoming messages for one connection: what it advertised, up to its maxFrameBytes. */
export class MessageInflater {
  private readonly reader: MsgReader;

  constructor(
    /** Bit `1 << id` per algorithm this side advertised (0: none, so every compressed message is refused). */
    private readonly accepts: number,
    private readonly maxBytes: number,
  ) {
    this.reader = new MsgReader();
  }

  /**
   * A reader over the decompressed message whose compressed bytes are the
   * bin at r's position (r moves past it); valid until the next call. Throws
   * RpcError (compression.ts, decompress; INTERNAL when the value is not a
   * bin).
   */
  open(r: MsgReader, flags: number): MsgReader {
    const b = r.pos < r.end ? r.peekByte() : -1;
    if (b !== 0xc4 && b !== 0xc5 && b !== 0xc6) throw new RpcError(Status.INTERNAL, "a compressed message must be a bin of the compressed bytes");
    let data: Uint8Array;
    try {
      data = r.binView();
    } catch (e) {
      throw new RpcError(Status.INTERNAL, `a compressed message is not a whole bin: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out = decompress((flags & COMPRESSION_MASK) >>> COMPRESSION_SHIFT, data, this.accepts, this.maxBytes);
    this.reader.reset(out, 0, out.length);
    return this.reader;
  }
}
