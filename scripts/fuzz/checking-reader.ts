/**
 * CheckingReader: a MsgReader that checks, on every header it hands to a
 * decoder, the promise of docs/ENCODING.md section 7: a declared array, map,
 * str or bin length never exceeds the bytes that remain, so no decoder can
 * size an allocation on a length that is not there. A broken promise is
 * thrown as a BoundsViolation and also kept in `violation`, since generated
 * decoders wrap foreign errors into DecodeErrors on their way out. It also
 * counts reads, so a decode that runs away is cut off. Owns these checks only; decoding is MsgReader's.
 */
import { MsgReader } from "../../src/codec/reader.ts";

/** The reader broke its bounds promise (a fuzz finding, not an input error). */
export class BoundsViolation extends Error {
  override name = "BoundsViolation";
}

/** Far more reads than any input of the fuzzer's sizes can need: past it a decode is looping. */
const MAX_READS = 1_000_000;

export class CheckingReader extends MsgReader {
  reads = 0;
  /** The first broken promise since construction or reset(), whatever became of its exception. */
  violation: BoundsViolation | null = null;

  override reset(buf: Uint8Array, pos?: number, end?: number): void {
    super.reset(buf, pos, end);
    this.reads = 0;
    this.violation = null;
  }

  private fail(message: string): never {
    const v = new BoundsViolation(message);
    this.violation ??= v;
    throw v;
  }

  private tick(): void {
    if (++this.reads > MAX_READS) this.fail(`more than ${MAX_READS} reads: the decoder does not make progress`);
  }

  override arrayHeader(): number {
    this.tick();
    const n = super.arrayHeader();
    if (n > this.end - this.pos) this.fail(`arrayHeader returned ${n} elements with ${this.end - this.pos} bytes left`);
    return n;
  }

  override mapHeader(): number {
    this.tick();
    const n = super.mapHeader();
    if (n * 2 > this.end - this.pos) this.fail(`mapHeader returned ${n} entries with ${this.end - this.pos} bytes left`);
    return n;
  }

  override str(): string {
    this.tick();
    const before = this.pos;
    const s = super.str();
    if (this.pos > this.end || this.pos < before) this.fail(`str moved the reader from ${before} to ${this.pos} (end ${this.end})`);
    return s;
  }

  override strSpan(): number {
    this.tick();
    const start = super.strSpan();
    if (this.pos > this.end) this.fail(`strSpan ended at ${this.pos}, past the end ${this.end}`);
    return start;
  }

  override bin(): Uint8Array {
    this.tick();
    const before = this.pos;
    const b = super.bin();
    if (this.pos > this.end || b.length > this.end - before) this.fail(`bin of ${b.length} bytes from ${before} with the end at ${this.end}`);
    return b;
  }

  override binView(): Uint8Array {
    this.tick();
    const before = this.pos;
    const b = super.binView();
    if (this.pos > this.end || b.length > this.end - before) this.fail(`binView of ${b.length} bytes from ${before} with the end at ${this.end}`);
    return b;
  }

  override skip(): void {
    this.tick();
    super.skip();
    if (this.pos > this.end) this.fail(`skip ended at ${this.pos}, past the end ${this.end}`);
  }

  override int(): number {
    this.tick();
    return super.int();
  }
}
