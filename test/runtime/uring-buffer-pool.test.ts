/**
 * Unit tests of the io_uring driver's arena buffer pool (size classes, free
 * lists, kernel ownership) and its slot table (lifecycle, reuse, growth),
 * on plain memory: no ring needed.
 */
import { describe, expect, test } from "bun:test";
import { ArenaBufferPool } from "../../src/runtime/uring/buffer-pool.ts";
import { SlotKind, SlotState, SlotTable } from "../../src/runtime/uring/slots.ts";

/** A pool over plain memory, wrapping each slab as its own ArrayBuffer and counting the wraps. */
function plainPool(arenaBytes: number, slabBytes?: number): { pool: ArenaBufferPool; wraps: Array<[number, number]> } {
  const wraps: Array<[number, number]> = [];
  const pool = new ArenaBufferPool(arenaBytes, (off, n) => {
    wraps.push([off, n]);
    return new ArrayBuffer(n);
  }, slabBytes);
  return { pool, wraps };
}

describe("ArenaBufferPool", () => {
  test("power-of-two classes, exact views, LIFO reuse within a class", () => {
    const { pool } = plainPool(1 << 16);
    const a = pool.acquire(100); // class 128
    const b = pool.acquire(128);
    const c = pool.acquire(1); // class 64
    expect([a.length, b.length, c.length]).toEqual([100, 128, 1]);
    expect(pool.owns(a)).toBe(true);
    expect(pool.arenaOffset(b) - pool.arenaOffset(a)).toBe(128);
    expect(pool.arenaOffset(c)).toBe(256);
    pool.release(a);
    pool.release(b);
    expect(pool.arenaOffset(pool.acquire(120))).toBe(128);
    expect(pool.arenaOffset(pool.acquire(65))).toBe(0);
    expect(pool.carved).toBe(320);
  });

  test("inUseBytes counts acquired buffers by class until released; fallbacks count what the full arena could not serve", () => {
    const { pool } = plainPool(256);
    const a = pool.acquire(100); // class 128
    const b = pool.acquire(1); // class 64
    expect(pool.inUseBytes).toBe(192);
    const c = pool.acquire(64);
    expect(pool.inUseBytes).toBe(256);
    const plain = pool.acquire(64); // the arena is full: plain memory
    expect(pool.owns(plain)).toBe(false);
    expect([pool.fallbacks, pool.inUseBytes]).toEqual([1, 256]);
    pool.release(a);
    pool.release(plain);
    expect(pool.inUseBytes).toBe(128);
    // A 64-byte request lent the free 128-byte buffer counts its class, and gives it back whole.
    const lent = pool.acquire(64);
    expect(pool.inUseBytes).toBe(256);
    for (const buf of [lent, b, c]) pool.release(buf);
    expect(pool.inUseBytes).toBe(0);
  });

  test("wraps the arena one slab at a time, only when a buffer is first carved from it; no buffer spans two slabs", () => {
    const { pool, wraps } = plainPool(4096, 1024);
    expect(wraps).toEqual([]);
    expect(pool.wrapped).toBe(0);
    const a = pool.acquire(64);
    expect(wraps).toEqual([[0, 1024]]);
    const b = pool.acquire(1000); // class 1024: aligned to the next slab, the gap goes to the free lists
    expect(pool.arenaOffset(b)).toBe(1024);
    expect(wraps).toEqual([[0, 1024], [1024, 1024]]);
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.wrapped).toBe(2048);
    // The skipped gap [64, 1024) is reused before anything new is carved.
    const c = pool.acquire(512);
    expect(pool.arenaOffset(c)).toBe(512);
    expect(pool.tryAcquire(2048)).toBeNull(); // over a slab: plain memory
    expect(pool.owns(pool.acquire(2048))).toBe(false);
    expect(pool.carved).toBe(2048);
  });

  test("with many slabs wrapped, every buffer's arena offset is found (scan, then map), and a foreign buffer is not", () => {
    const slab = 1024;
    const { pool, wraps } = plainPool(16 * slab, slab);
    const bufs = Array.from({ length: 16 }, () => pool.acquire(slab));
    expect(wraps.length).toBe(16);
    bufs.forEach((b, k) => {
      expect(pool.arenaOffset(b)).toBe(k * slab);
      expect(pool.arenaOffset(b.subarray(8))).toBe(k * slab + 8);
    });
    expect(pool.arenaOffset(new Uint8Array(slab))).toBe(-1);
    for (const b of bufs) pool.release(b);
    expect(pool.inUseBytes).toBe(0);
  });

  test("its marks cover the slabs it wrapped, not the whole arena, and grow with them", () => {
    const { pool } = plainPool(64 << 20, 1 << 20);
    expect(pool.markBytes).toBe(0);
    const a = pool.acquire(100);
    expect(pool.markBytes).toBe((1 << 20) / 64);
    const big = Array.from({ length: 3 }, () => pool.acquire(1 << 20));
    expect(pool.markBytes).toBe((4 << 20) / 64);
    pool.setKernelOwned(big[2]!, true);
    expect(() => pool.release(big[2]!)).toThrow("in-flight operation owns it");
    pool.setKernelOwned(big[2]!, false);
    for (const b of [a, ...big]) pool.release(b);
    expect(pool.inUseBytes).toBe(0);
  });

  test("refuses double release, subarrays and release of a kernel-owned buffer", () => {
    const { pool } = plainPool(4096);
    const a = pool.acquire(256);
    expect(() => pool.release(a.subarray(64))).toThrow("not acquired");
    pool.setKernelOwned(a, true);
    expect(() => pool.release(a)).toThrow("in-flight operation owns it");
    pool.setKernelOwned(a, false);
    pool.release(a);
    expect(() => pool.release(a)).toThrow("double release");
    pool.release(new Uint8Array(8)); // plain memory: nothing to do
  });

  test("falls back to plain memory when the arena is full", () => {
    const { pool } = plainPool(1024);
    const big = pool.acquire(1024);
    expect(pool.owns(big)).toBe(true);
    expect(pool.tryAcquire(64)).toBeNull();
    const plain = pool.acquire(64);
    expect(plain.length).toBe(64);
    expect(pool.owns(plain)).toBe(false);
    expect(pool.fallbacks).toBe(1);
    pool.release(big);
    // A free buffer of a larger class is lent out, and returns to its own class.
    const lent = pool.acquire(64);
    expect(pool.arenaOffset(lent)).toBe(0);
    pool.release(lent);
    expect(pool.arenaOffset(pool.acquire(1000))).toBe(0);
  });
});

describe("SlotTable", () => {
  test("alloc/free cycles slots, bumps the generation and drops references", () => {
    const t = new SlotTable(2);
    const owner = {};
    const s = t.alloc(SlotKind.READ, 7, owner);
    expect(t.state[s]).toBe(SlotState.SUBMITTED);
    expect(t.fd[s]).toBe(7);
    expect(t.owner[s]).toBe(owner);
    t.buf[s] = new Uint8Array(4);
    const gen = t.gen[s];
    t.free(s);
    expect(t.state[s]).toBe(SlotState.FREE);
    expect(t.owner[s]).toBeNull();
    expect(t.buf[s]).toBeNull();
    expect(t.gen[s]).toBe(gen! + 1);
    expect(t.active).toBe(0);
    t.free(s); // freeing twice is harmless
    expect(t.active).toBe(0);
  });

  test("grows past its capacity without losing live slots", () => {
    const t = new SlotTable(2);
    const live = Array.from({ length: 9 }, (_, i) => t.alloc(SlotKind.WRITE, i, i));
    expect(new Set(live).size).toBe(9);
    expect(t.capacity).toBeGreaterThanOrEqual(9);
    for (let i = 0; i < live.length; i++) expect(t.fd[live[i]!]).toBe(i);
    expect(t.activeSlots().sort((a, b) => a - b)).toEqual([...live].sort((a, b) => a - b));
  });

  test("removes the abort listener when a slot is freed", () => {
    const t = new SlotTable(4);
    const ctl = new AbortController();
    let calls = 0;
    const s = t.alloc(SlotKind.READ, 3, null);
    t.signal[s] = ctl.signal;
    t.onAbort[s] = () => calls++;
    ctl.signal.addEventListener("abort", t.onAbort[s]!);
    t.free(s);
    ctl.abort();
    expect(calls).toBe(0);
  });
});
