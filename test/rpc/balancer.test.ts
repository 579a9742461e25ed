/**
 * The balancer on its own (src/rpc/balancer.ts), over fake pool entries:
 * round robin takes the ready entries in turn and skips the others;
 * least-outstanding takes the least loaded ready one, ties in turn; an
 * address to avoid is taken only when nothing else is ready; entries passed
 * over that have no connection are woken; an empty or all-down pool gives
 * null.
 */
import { describe, expect, test } from "bun:test";
import type { Backend, PooledConnection } from "../../src/rpc/backend.ts";
import { Balancer } from "../../src/rpc/balancer.ts";

interface Fake {
  name: string;
  ready: boolean;
  outstanding: number;
  conn: object | null;
  backend: object;
  woken: number;
  wake(now: number): void;
}

function pool(spec: string): Fake[] {
  // One letter per entry: R ready, n not ready but connected (draining, NOT_SERVING), d disconnected.
  return [...spec].map((c, i) => ({
    name: `e${i}`,
    ready: c === "R",
    outstanding: 0,
    conn: c === "d" ? null : {},
    backend: { address: `a${i}` },
    woken: 0,
    wake(now: number) {
      expect(now).toBeGreaterThan(0);
      this.woken++;
    },
  }));
}

const asPool = (p: Fake[]) => p as unknown as PooledConnection[];
const picks = (b: Balancer, p: Fake[], n: number, avoid: object | null = null) =>
  Array.from({ length: n }, () => (b.pick(asPool(p), avoid as Backend | null) as unknown as Fake | null)?.name ?? null);

describe("balancer", () => {
  test("round robin takes the ready entries in turn and wakes the disconnected ones it passes", () => {
    const p = pool("RdRnR");
    expect(picks(new Balancer("round_robin"), p, 6)).toEqual(["e0", "e2", "e4", "e0", "e2", "e4"]);
    expect(p.map((e) => e.woken)).toEqual([0, 2, 0, 0, 0]);
  });

  test("least-outstanding takes the least loaded ready entry, ties in turn", () => {
    const p = pool("RRRn");
    p[0]!.outstanding = 3;
    p[1]!.outstanding = 1;
    p[2]!.outstanding = 1;
    p[3]!.outstanding = 0; // not ready: never taken however idle
    const b = new Balancer("least_outstanding");
    expect(picks(b, p, 3)).toEqual(["e1", "e1", "e2"]);
    p[1]!.outstanding = 5;
    expect(picks(b, p, 1)).toEqual(["e2"]);
  });

  test("the address to avoid is taken only when no other entry is ready", () => {
    for (const policy of ["round_robin", "least_outstanding"] as const) {
      const p = pool("RR");
      const b = new Balancer(policy);
      expect(picks(b, p, 3, p[0]!.backend)).toEqual(["e1", "e1", "e1"]);
      p[1]!.ready = false;
      expect(picks(b, p, 1, p[0]!.backend)).toEqual(["e0"]);
    }
  });

  test("nothing ready (or nothing at all) gives null; a bad policy is refused", () => {
    expect(picks(new Balancer("round_robin"), pool("dnd"), 1)).toEqual([null]);
    expect(picks(new Balancer("least_outstanding"), pool(""), 1)).toEqual([null]);
    expect(() => new Balancer("random" as never)).toThrow('balance must be "round_robin" or "least_outstanding" (got "random")');
  });
});
