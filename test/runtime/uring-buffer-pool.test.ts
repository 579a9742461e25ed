/**
 * Unit tests of the io_uring driver's arena buffer pool (size classes, free
 * lists, kernel ownership) and its slot table (lifecycle, reuse, growth),
 * on plain memory: no ring needed.
 */
import { describe, expect, test } from "bun:test";
import { ArenaBufferPool } from "../../src/runtime/uring/buffer-pool.ts";
import { SlotKind, SlotState, SlotTable } from "../../src/runtime/uring/slots.ts";

describe("ArenaBufferPool", () => {
  test("power-of-two classes, exact views, LIFO reuse within a class", () => {
    const pool = new ArenaBufferPool(new ArrayBuffer(1 << 16));
    const a = pool.acquire(100); // class 128
    const b = pool.acquire(128);
    const c = pool.acquire(1); // class 64
    expect([a.length, b.length, c.length]).toEqual([100, 128, 1]);
    expect(a.buffer).toBe(pool.arena);
    expect(b.byteOffset - a.byteOffset).toBe(128);
    expect(c.byteOffset).toBe(256);
    pool.release(a);
    pool.release(b);
    expect(pool.acquire(120).byteOffset).toBe(b.byteOffset);
    expect(pool.acquire(65).byteOffset).toBe(a.byteOffset);
    expect(pool.carved).toBe(320);
  });

  test("refuses double release, subarrays and release of a kernel-owned buffer", () => {
    const pool = new ArenaBufferPool(new ArrayBuffer(4096));
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
    const pool = new ArenaBufferPool(new ArrayBuffer(1024));
    const big = pool.acquire(1024);
    expect(big.buffer).toBe(pool.arena);
    expect(pool.tryAcquire(64)).toBeNull();
    const plain = pool.acquire(64);
    expect(plain.length).toBe(64);
    expect(pool.owns(plain)).toBe(false);
    expect(pool.fallbacks).toBe(1);
    pool.release(big);
    // A free buffer of a larger class is lent out, and returns to its own class.
    const lent = pool.acquire(64);
    expect(lent.byteOffset).toBe(big.byteOffset);
    pool.release(lent);
    expect(pool.acquire(1000).byteOffset).toBe(big.byteOffset);
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
