/**
 * RawPeer: a hand-driven protocol peer for limit and malformed-input tests
 * (a client that connects, or the server end of an accepted connection).
 * Sends arbitrary bytes, decodes what comes back into plain arrays
 * (msgpackr, test-only), keeps the first frame's bytes (the other side's
 * HELLO) and notices when the other side closes.
 */
import { Packr, unpack } from "msgpackr";
import { FrameDecoder } from "../../../src/rpc/frame-decoder.ts";
import type { Conn, Listener, Runtime } from "../../../src/runtime/types.ts";
import { until } from "./harness.ts";

const packr = new Packr({ useRecords: false, variableMapSize: true });

/** Length prefix + msgpack body of v. */
export function frameBytes(v: unknown): Uint8Array {
  return rawFrame(packr.pack(v));
}

/** Every frame of `vs` in one buffer, so one write carries them and the server reads them in one turn. */
export function framesBytes(...vs: unknown[]): Uint8Array {
  return concatBytes(...vs.map((v) => frameBytes(v)));
}

/** The given byte arrays one after another, in one new buffer. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Length prefix + the given raw body bytes. */
export function rawFrame(body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

export const HELLO = [1, 0, 1, 4 * 1024 * 1024, 1000, 64, 8192];

export class RawPeer {
  readonly frames: unknown[][] = [];
  /** The body bytes of the first frame received (the other side's HELLO), as they came. */
  firstFrame: Uint8Array | null = null;
  ended = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);

  private constructor(
    readonly rt: Runtime,
    readonly conn: Conn,
  ) {
    conn.stream({
      data: (chunk) => {
        this.decoder.push(chunk, (buf, start, end) => {
          this.firstFrame ??= buf.slice(start, end);
          this.frames.push(unpack(buf.subarray(start, end)) as unknown[]);
        });
      },
      end: () => {
        this.ended = true;
      },
    });
  }

  static async connect(rt: Runtime, port: number): Promise<RawPeer> {
    return new RawPeer(rt, await rt.connect({ host: "127.0.0.1", port }));
  }

  /** The next connection accepted on `listener`, driven by hand (a raw server for client tests). */
  static async accept(rt: Runtime, listener: Listener): Promise<RawPeer> {
    return new RawPeer(rt, await listener.accept());
  }

  async send(bytes: Uint8Array): Promise<void> {
    const buf = this.rt.buffers.acquire(bytes.length);
    buf.set(bytes);
    const r = await this.conn.writeAll(buf);
    this.rt.buffers.release(r.buf);
  }

  /** Waits for a frame of this type; returns it or null on timeout. */
  async waitFrame(type: number, timeoutMs = 2000): Promise<unknown[] | null> {
    await until(() => this.frames.some((f) => f[0] === type), timeoutMs);
    return this.frames.find((f) => f[0] === type) ?? null;
  }

  async waitEnd(timeoutMs = 2000): Promise<boolean> {
    return until(() => this.ended, timeoutMs);
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}
