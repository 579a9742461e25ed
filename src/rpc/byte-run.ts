/**
 * ByteRun: one remembered run of bytes, compared against input a 32-bit
 * word at a time through the reader's DataView. The server keeps two per
 * connection: the last method path, and the last plain REQUEST's bytes from
 * its path to its flags (ServerConnection.shortcut). A byte loop over a
 * 20-byte path cost ~25 ns a request at depth 32 (bench/RESULTS.md 0.19).
 */
import type { MsgReader } from "../codec/reader.ts";

export class ByteRun {
  /** Big-endian words at 0, 4, 8, ...; the last is the run's last 4 bytes (it may overlap the one before). */
  private words: Int32Array;
  private wordCount: number;
  /** The bytes of a run shorter than 4. */
  private short: Uint8Array;
  /** The run's length; -1 while nothing is remembered. */
  len: number;

  constructor() {
    this.words = new Int32Array(8);
    this.wordCount = 0;
    this.short = new Uint8Array(4);
    this.len = -1;
  }

  /** True when r.buf[start, end) is the remembered run. */
  equals(r: MsgReader, start: number, end: number): boolean {
    return end - start === this.len && this.same(r, start);
  }

  /** True when the remembered run starts at r.buf[start] and ends within the reader's input (r.end). */
  startsAt(r: MsgReader, start: number): boolean {
    const n = this.len;
    return n >= 0 && start + n <= r.end && this.same(r, start);
  }

  private same(r: MsgReader, start: number): boolean {
    const n = this.len;
    if (n < 4) {
      const b = r.buf;
      const s = this.short;
      for (let i = 0; i < n; i++) if (b[start + i] !== s[i]) return false;
      return true;
    }
    const w = this.words;
    const last = this.wordCount - 1;
    for (let k = 0; k < last; k++) if (r.wordAt(start + 4 * k) !== w[k]) return false;
    return r.wordAt(start + n - 4) === w[last];
  }

  /** Remembers r.buf[start, end). */
  set(r: MsgReader, start: number, end: number): void {
    const n = end - start;
    if (n < 4) this.short.set(r.buf.subarray(start, end));
    else {
      const count = Math.ceil(n / 4);
      if (count > this.words.length) this.words = new Int32Array(count);
      for (let k = 0; k < count - 1; k++) this.words[k] = r.wordAt(start + 4 * k);
      this.words[count - 1] = r.wordAt(end - 4);
      this.wordCount = count;
    }
    this.len = n;
  }
}
