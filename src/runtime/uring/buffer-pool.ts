/**
 * ArenaBufferPool: the runtime's owned buffers, carved from the ring's one
 * native arena (so the kernel may read and write them) in power-of-two size
 * classes with a LIFO free list per class. It also tracks which buffers an
 * in-flight op owns, so such a buffer can neither be released nor handed out
 * again before the kernel's completion. When the arena is full, acquire()
 * falls back to plain memory (I/O on it is copied through a small arena
 * buffer). Knows nothing about ops or sockets.
 */
import type { BufferPool } from "../types.ts";

/** Smallest size class and carve alignment (a cache line). */
const MIN_CLASS_SHIFT = 6;
const UNIT = 1 << MIN_CLASS_SHIFT;

/** Per-unit marks: 0 free/never carved, class+1 when acquired; KERNEL bit while an op owns it. */
const KERNEL = 0x80;

export class ArenaBufferPool implements BufferPool {
  readonly arena: ArrayBuffer;
  private readonly size: number;
  private bump = 0;
  private readonly free: number[][] = [];
  private readonly marks: Uint8Array;

  constructor(arena: ArrayBuffer) {
    this.arena = arena;
    this.size = arena.byteLength;
    this.marks = new Uint8Array(Math.ceil(this.size / UNIT));
    for (let c = 0; c <= 31; c++) this.free.push([]);
  }

  /** True when buf is a view of this pool's arena (kernel I/O can use it in place). */
  owns(buf: Uint8Array): boolean {
    return buf.buffer === this.arena;
  }

  /** Buffers handed out as plain memory because the arena was full (their I/O is copied through the arena). */
  fallbacks = 0;

  acquire(size: number): Uint8Array {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`buffer size must be a non-negative integer, got ${size}`);
    const buf = this.tryAcquire(size);
    if (buf !== null) return buf;
    this.fallbacks++;
    return new Uint8Array(size);
  }

  /** Like acquire, but null when the arena is exhausted. */
  tryAcquire(size: number): Uint8Array | null {
    if (!(size >= 0) || size > this.size) return null;
    let cls = classOf(size);
    let off: number;
    const list = this.free[cls]!;
    if (list.length > 0) {
      off = list.pop()!;
    } else if (this.bump + (1 << cls) <= this.size) {
      off = this.bump;
      this.bump += 1 << cls;
    } else {
      // Arena fully carved: lend a free buffer of a larger class (it goes back to its own class).
      for (;;) {
        if (++cls > 31) return null;
        const bigger = this.free[cls]!;
        if (bigger.length > 0) {
          off = bigger.pop()!;
          break;
        }
      }
    }
    this.marks[off >>> MIN_CLASS_SHIFT] = cls + 1;
    return new Uint8Array(this.arena, off, size);
  }

  release(buf: Uint8Array): void {
    if (buf.buffer !== this.arena) return; // plain memory (a fallback or the caller's own): the GC owns it
    const unit = buf.byteOffset >>> MIN_CLASS_SHIFT;
    const mark = this.marks[unit] ?? 0;
    if ((buf.byteOffset & (UNIT - 1)) !== 0 || mark === 0) {
      throw new Error(`release of a buffer at arena offset ${buf.byteOffset} that is not acquired (double release or a subarray?)`);
    }
    if ((mark & KERNEL) !== 0) {
      throw new Error(`release of the buffer at arena offset ${buf.byteOffset} while an in-flight operation owns it: wait for the operation's result`);
    }
    this.marks[unit] = 0;
    this.free[mark - 1]!.push(buf.byteOffset);
  }

  /** Marks an acquired buffer as owned by an in-flight op (or not). Views not from acquire() are ignored. */
  setKernelOwned(buf: Uint8Array, on: boolean): void {
    if (buf.buffer !== this.arena || (buf.byteOffset & (UNIT - 1)) !== 0) return;
    const unit = buf.byteOffset >>> MIN_CLASS_SHIFT;
    const mark = this.marks[unit]!;
    if (mark === 0) return;
    this.marks[unit] = on ? mark | KERNEL : mark & ~KERNEL;
  }

  /** Bytes carved so far (never shrinks; freed buffers go to their class list). */
  get carved(): number {
    return this.bump;
  }
}

function classOf(size: number): number {
  if (size <= UNIT) return MIN_CLASS_SHIFT;
  return 32 - Math.clz32(size - 1);
}
