/**
 * ArenaBufferPool: the runtime's owned buffers, carved from the ring's one
 * native arena (so the kernel may read and write them) in power-of-two size
 * classes with a LIFO free list per class. The arena is wrapped for JS in
 * SLAB-sized pieces, each only once a buffer is first carved from it: JSC
 * counts a wrapped region as allocated memory and paces its collections by
 * it, so wrapping all 64 MiB up front kept ~2x the garbage of the epoll
 * driver resident (bench/RESULTS.md, "Memory under load"). A buffer never
 * spans two slabs. The pool also tracks which buffers an in-flight op owns,
 * so such a buffer can neither be released nor handed out again before the
 * kernel's completion. When the arena is full (or a buffer is larger than a
 * slab), acquire() falls back to plain memory (I/O on it is copied through
 * a small arena buffer). Knows nothing about ops or sockets.
 */
import type { BufferPool } from "../types.ts";

/** Smallest size class and carve alignment (a cache line). */
const MIN_CLASS_SHIFT = 6;
const UNIT = 1 << MIN_CLASS_SHIFT;
/**
 * Default slab: the largest arena buffer, and the unit in which the arena is
 * wrapped. 256 KiB (was 4 MiB, then 1 MiB): every wrapped byte counts in
 * JSC's collection pacing, and the RPC layer's largest write
 * (frame-output.ts, MAX_WRITE_BYTES) is 256 KiB.
 */
export const DEFAULT_SLAB_BYTES = 1 << 18;
/** Slabs found by a scan; past this many wrapped slabs a map finds a buffer's slab. */
const SCANNED_SLABS = 4;

/** Per-unit marks: 0 free/never carved, class+1 when acquired; KERNEL bit while an op owns it. */
const KERNEL = 0x80;

/** Wraps arena bytes [offset, offset + bytes) as an ArrayBuffer (toArrayBuffer over native memory). */
export type ArenaWrap = (offset: number, bytes: number) => ArrayBuffer;

export class ArenaBufferPool implements BufferPool {
  /** Arena size in bytes. */
  readonly size: number;
  private readonly wrap: ArenaWrap;
  private readonly slabShift: number;
  private readonly slabBytes: number;
  /** Wrapped slabs by index; a slab is wrapped when the first buffer is carved from it. */
  private readonly slabs: ArrayBuffer[] = [];
  /** Slab index by wrapped ArrayBuffer, for the slabs past SCANNED_SLABS. */
  private readonly slabIndex = new Map<ArrayBuffer, number>();
  private bump = 0;
  private readonly free: number[][] = [];
  /** Covers the wrapped slabs only (grown with them): a mark per 64 B of the whole arena would be 1/64 of it up front. */
  private marks: Uint8Array;

  constructor(arenaBytes: number, wrap: ArenaWrap, slabBytes = DEFAULT_SLAB_BYTES) {
    if (slabBytes < UNIT || (slabBytes & (slabBytes - 1)) !== 0) throw new RangeError(`slabBytes must be a power of two >= ${UNIT}, got ${slabBytes}`);
    this.size = arenaBytes;
    this.wrap = wrap;
    this.slabBytes = slabBytes;
    this.slabShift = 31 - Math.clz32(slabBytes);
    this.marks = new Uint8Array(0);
    for (let c = 0; c <= 31; c++) this.free.push([]);
  }

  /** Byte offset of buf in the arena (what the kernel is told), or -1 when buf is not an arena buffer. */
  arenaOffset(buf: Uint8Array): number {
    const ab = buf.buffer;
    const slabs = this.slabs;
    const scanned = Math.min(slabs.length, SCANNED_SLABS);
    for (let k = 0; k < scanned; k++) if (slabs[k] === ab) return (k << this.slabShift) + buf.byteOffset;
    if (slabs.length <= SCANNED_SLABS) return -1;
    const k = this.slabIndex.get(ab as ArrayBuffer);
    return k === undefined ? -1 : (k << this.slabShift) + buf.byteOffset;
  }

  /** True when buf is a view of this pool's arena (kernel I/O can use it in place). */
  owns(buf: Uint8Array): boolean {
    return this.arenaOffset(buf) >= 0;
  }

  /** Buffers handed out as plain memory because the arena was full (their I/O is copied through the arena). */
  fallbacks = 0;
  /** Bytes of arena buffers acquired and not yet released (by size class). */
  inUseBytes = 0;

  acquire(size: number): Uint8Array {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`buffer size must be a non-negative integer, got ${size}`);
    const buf = this.tryAcquire(size);
    if (buf !== null) return buf;
    this.fallbacks++;
    return new Uint8Array(size);
  }

  /** Like acquire, but null when the arena is exhausted or size is over a slab. */
  tryAcquire(size: number): Uint8Array | null {
    if (!(size >= 0) || size > this.slabBytes || size > this.size) return null;
    let cls = classOf(size);
    let off: number;
    const list = this.free[cls]!;
    if (list.length > 0) {
      off = list.pop()!;
    } else if ((off = this.carve(1 << cls)) < 0) {
      // Arena fully carved: lend a free buffer of a larger class (it goes back to its own class).
      for (;;) {
        if (++cls > this.slabShift) return null;
        const bigger = this.free[cls]!;
        if (bigger.length > 0) {
          off = bigger.pop()!;
          break;
        }
      }
    }
    this.marks[off >>> MIN_CLASS_SHIFT] = cls + 1;
    this.inUseBytes += 1 << cls;
    const k = off >>> this.slabShift;
    return new Uint8Array(this.slabs[k]!, off - (k << this.slabShift), size);
  }

  /** Carves n bytes (a power of two <= a slab) from the untouched end, wrapping a new slab when it starts one; -1 when full. */
  private carve(n: number): number {
    let off = this.bump;
    // Classes are powers of two and slabs a multiple of every class, so an
    // aligned carve never straddles; skip to the next boundary when unaligned.
    const mis = off & (n - 1);
    if (mis !== 0) off += n - mis;
    if (off + n > this.size) return -1;
    const k = off >>> this.slabShift;
    while (this.slabs.length <= k) {
      const start = this.slabs.length << this.slabShift;
      const slab = this.wrap(start, Math.min(this.slabBytes, this.size - start));
      if (this.slabs.length >= SCANNED_SLABS) this.slabIndex.set(slab, this.slabs.length);
      this.slabs.push(slab);
      this.growMarks(Math.ceil(Math.min(this.slabs.length << this.slabShift, this.size) / UNIT));
    }
    if (off !== this.bump) this.spill(this.bump, off);
    this.bump = off + n;
    return off;
  }

  /** Makes the marks cover `units` units (doubling, so growth is rare). */
  private growMarks(units: number): void {
    if (units <= this.marks.length) return;
    const grown = new Uint8Array(Math.min(Math.max(units, this.marks.length * 2), Math.ceil(this.size / UNIT)));
    grown.set(this.marks);
    this.marks = grown;
  }

  /** Gives the gap skipped by an aligned carve to the free lists, in the largest aligned pieces. */
  private spill(from: number, to: number): void {
    while (from < to) {
      let cls = 31 - Math.clz32(to - from);
      while (cls > MIN_CLASS_SHIFT && (from & ((1 << cls) - 1)) !== 0) cls--;
      this.free[cls]!.push(from);
      from += 1 << cls;
    }
  }

  release(buf: Uint8Array): void {
    const off = this.arenaOffset(buf);
    if (off < 0) return; // plain memory (a fallback or the caller's own): the GC owns it
    const unit = off >>> MIN_CLASS_SHIFT;
    const mark = this.marks[unit] ?? 0;
    if ((off & (UNIT - 1)) !== 0 || mark === 0) {
      throw new Error(`release of a buffer at arena offset ${off} that is not acquired (double release or a subarray?)`);
    }
    if ((mark & KERNEL) !== 0) {
      throw new Error(`release of the buffer at arena offset ${off} while an in-flight operation owns it: wait for the operation's result`);
    }
    this.marks[unit] = 0;
    this.inUseBytes -= 1 << (mark - 1);
    this.free[mark - 1]!.push(off);
  }

  /** Marks an acquired buffer as owned by an in-flight op (or not). Views not from acquire() are ignored. */
  setKernelOwned(buf: Uint8Array, on: boolean): void {
    const off = this.arenaOffset(buf);
    if (off < 0 || (off & (UNIT - 1)) !== 0) return;
    const unit = off >>> MIN_CLASS_SHIFT;
    const mark = this.marks[unit] ?? 0;
    if (mark === 0) return;
    this.marks[unit] = on ? mark | KERNEL : mark & ~KERNEL;
  }

  /** Bytes of the per-unit marks (they cover the wrapped slabs, not the whole arena). */
  get markBytes(): number {
    return this.marks.length;
  }

  /** Bytes carved so far (never shrinks; freed buffers go to their class list). */
  get carved(): number {
    return this.bump;
  }

  /** Bytes of the arena wrapped for JS so far (what JSC counts). */
  get wrapped(): number {
    return this.slabs.reduce((n, ab) => n + ab.byteLength, 0);
  }
}

function classOf(size: number): number {
  if (size <= UNIT) return MIN_CLASS_SHIFT;
  return 32 - Math.clz32(size - 1);
}
