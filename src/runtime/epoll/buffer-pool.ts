/**
 * The epoll driver's BufferPool: plain ArrayBuffers kept in free lists by
 * power-of-two size class. Owns only buffer reuse; it never sees sockets.
 * A released buffer must not be handed out twice, so release() refuses
 * buffers it did not make and buffers already free.
 */
import type { BufferPool } from "../types.ts";

/** Smallest class: 64 bytes. */
const MIN_SHIFT = 6;
/** Buffers above 4 MiB are left to the GC instead of being kept. */
const MAX_POOLED_SHIFT = 22;
/** Free buffers kept per class. */
const MAX_FREE_PER_CLASS = 64;

function classOf(size: number): number {
  if (size <= 1 << MIN_SHIFT) return MIN_SHIFT;
  return 32 - Math.clz32(size - 1);
}

export class PowerOfTwoBufferPool implements BufferPool {
  private readonly free: ArrayBuffer[][] = [];
  private readonly made = new WeakSet<ArrayBuffer>();
  private readonly idle = new WeakSet<ArrayBuffer>();
  /** Bytes of buffers handed out and not yet released (by size class). */
  inUseBytes = 0;

  acquire(size: number): Uint8Array {
    if (!Number.isInteger(size) || size < 0 || size > 2 ** 31) {
      throw new RangeError(`buffer size must be an integer in [0, 2^31], got ${size}`);
    }
    const shift = classOf(size);
    const backing = this.free[shift]?.pop() ?? this.make(shift);
    this.idle.delete(backing);
    this.inUseBytes += backing.byteLength;
    return new Uint8Array(backing, 0, size);
  }

  release(buf: Uint8Array): void {
    const backing = buf.buffer;
    if (!(backing instanceof ArrayBuffer) || !this.made.has(backing)) {
      throw new RangeError("release() got a buffer this pool did not hand out");
    }
    if (this.idle.has(backing)) throw new RangeError("release() got a buffer that is already free (double release)");
    this.idle.add(backing);
    this.inUseBytes -= backing.byteLength;
    const shift = classOf(backing.byteLength);
    if (shift > MAX_POOLED_SHIFT) return;
    const list = (this.free[shift] ??= []);
    if (list.length < MAX_FREE_PER_CLASS) list.push(backing);
  }

  /** Drops every free buffer (runtime close). */
  clear(): void {
    this.free.length = 0;
  }

  private make(shift: number): ArrayBuffer {
    const backing = new ArrayBuffer(1 << shift);
    this.made.add(backing);
    return backing;
  }
}
