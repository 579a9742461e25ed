/** CallTable (src/rpc/call-table.ts): a client connection's open calls by id. */
import { describe, expect, test } from "bun:test";
import { CallTable } from "../../src/rpc/call-table.ts";

const call = (id: number) => ({ id });

describe("CallTable", () => {
  test("finds every open call by id and nothing else, across growth", () => {
    const t = new CallTable<{ id: number }>();
    const open = new Map<number, { id: number }>();
    for (let id = 1; id <= 1000; id++) {
      const c = call(id);
      t.add(c);
      open.set(id, c);
    }
    expect(t.size).toBe(1000);
    for (let id = 1; id <= 1000; id++) expect(t.get(id)).toBe(open.get(id)!);
    expect(t.get(0)).toBeUndefined();
    expect(t.get(1001)).toBeUndefined();
    expect(t.values().length).toBe(1000);
  });

  test("a long-lived call lapped by later ids stays reachable, and so do the later ones", () => {
    const t = new CallTable<{ id: number }>();
    const stream = call(5);
    t.add(stream);
    // Sequential short calls, 8 open at a time, run far past every slot index many times.
    const window: { id: number }[] = [];
    for (let id = 6; id < 20_000; id++) {
      const c = call(id);
      t.add(c);
      window.push(c);
      if (window.length > 8) expect(t.remove(window.shift()!)).toBe(true);
      expect(t.get(id)).toBe(c);
      expect(t.get(5)).toBe(stream);
    }
    expect(t.size).toBe(1 + window.length);
    expect(t.remove(stream)).toBe(true);
    expect(t.get(5)).toBeUndefined();
  });

  test("remove takes only that very call", () => {
    const t = new CallTable<{ id: number }>();
    const a = call(7);
    t.add(a);
    expect(t.remove(call(7))).toBe(false);
    expect(t.get(7)).toBe(a);
    expect(t.remove(a)).toBe(true);
    expect(t.remove(a)).toBe(false);
    expect(t.size).toBe(0);
  });

  test("clear empties it, values() is a copy", () => {
    const t = new CallTable<{ id: number }>();
    for (let id = 1; id <= 100; id++) t.add(call(id));
    const vs = t.values();
    for (const c of vs) t.remove(c);
    expect(t.size).toBe(0);
    for (let id = 1; id <= 10; id++) t.add(call(id));
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get(3)).toBeUndefined();
    expect(t.values()).toEqual([]);
  });
});
