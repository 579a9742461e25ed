/**
 * Limits on calls in flight (docs/RPC.md, "Limits a peer cannot game"), on
 * both drivers, server in a Worker: open calls are capped per connection
 * (maxConcurrentCalls) and across the server (maxServerConcurrentCalls); a
 * REQUEST over either gets RESOURCE_EXHAUSTED and its connection lives on;
 * a peer that keeps pushing past the limit gets GOAWAY ENHANCE_YOUR_CALM
 * too_many_refused_calls; the defaults never refuse a heavy well-behaved
 * client (the benchmark's 16 connections x depth 32, and 1 x 32). Also the
 * options' validation.
 */
import { describe, expect, test } from "bun:test";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { CalmToken, DEFAULT_GUARD_LIMITS, resolveGuardLimits } from "../../src/rpc/server-limits.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "../rpc/helpers/drivers.ts";
import { reportAttack } from "./fixtures/attack-report.ts";
import { echoLatencies, echoLatenciesWhile, percentile, withTarget } from "./fixtures/limits-harness.ts";
import { T, UNARY_FLAGS } from "./fixtures/limits-service.ts";
import type { WireSocket } from "./fixtures/limits-socket.ts";

const HANG = "attack.v1.Target/hang";

/** Sends REQUEST hang for ids from..to in one write. */
function hangCalls(s: WireSocket, from: number, to: number): void {
  const reqs: unknown[][] = [];
  for (let id = from; id <= to; id++) reqs.push([2, id, HANG, null, null, UNARY_FLAGS, [0]]);
  s.sendFrame(...reqs);
}

/** The RESOURCE_EXHAUSTED STATUS frames the socket got, once `n` of them arrived (or after 2 s). */
async function refusals(s: WireSocket, n: number): Promise<unknown[][]> {
  const of = () => s.frames.filter((f) => f[0] === FrameType.STATUS && f[2] === Status.RESOURCE_EXHAUSTED);
  await s.waitFor(() => of().length >= n, 2000);
  return of();
}

describeDrivers("attack: calls in flight", (d) => {
  test("open calls are capped per connection and across the server; a REQUEST over either gets RESOURCE_EXHAUSTED and its connection lives", async () => {
    await withTarget(d, { maxConcurrentCalls: 20, maxServerConcurrentCalls: 50 }, async (t) => {
      const ch = t.channel();
      const quiet = await echoLatencies(ch, 200);
      const [a, b, e] = await Promise.all([t.socket(), t.socket(), t.socket()]);
      hangCalls(a!, 1, 25);
      const overConnection = await refusals(a!, 5);
      expect(overConnection.map((f) => f[1])).toEqual([21, 22, 23, 24, 25]);
      expect(String(overConnection[0]![3])).toBe("too many concurrent calls on this connection (limit 20)");
      // Another abuser keeps pushing past its connection's limit while the
      // well-behaved client calls: 20 open, 80 refused.
      const during = await echoLatenciesWhile(
        ch,
        200,
        (async () => {
          for (let round = 0; round < 10; round++) {
            hangCalls(e!, round * 10 + 1, round * 10 + 10);
            await Bun.sleep(10);
          }
        })(),
      );
      expect((await refusals(e!, 80)).map((f) => f[1])).toEqual(Array.from({ length: 80 }, (_, i) => 21 + i));
      // Quiet p99 measured 0.55-3.6 ms, during 0.08-1.2 ms; bound 5x quiet or 15 ms.
      reportAttack({ attack: "calls in flight: 100 hanging calls on one connection", driver: d.name, quietP99Ms: percentile(quiet, 99), duringP99Ms: percentile(during, 99) });
      expect(percentile(during, 99)).toBeLessThan(Math.max(5 * percentile(quiet, 99), 15));
      // A third fills the server: 10 more open, then every new call is refused.
      hangCalls(b!, 1, 20);
      const overServer = await refusals(b!, 10);
      expect(overServer.map((f) => f[1])).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(String(overServer[0]![3])).toBe("too many concurrent calls on this server (limit 50 across its connections); retry later");
      expect((await t.stats()).activeCalls).toBe(50);
      const p = await t.probe();
      expect([p.started, p.running, p.peakRunning]).toEqual([50, 50, 50]);
      // The cap is checked before any handler runs, so a full server refuses
      // even a call that would have answered at once...
      const full = await ch.unary(T.echo, { text: "x" }).catch((err: RpcError) => err);
      expect((full as RpcError).status).toBe(Status.RESOURCE_EXHAUSTED);
      // ...yet every connection lives, and once an abuser leaves, its slots serve others.
      for (const s of [a, b, e]) expect(s!.closed || s!.goAwayAt !== null).toBe(false);
      a!.destroy();
      for (let i = 0; i < 100 && (await t.stats()).activeCalls > 30; i++) await Bun.sleep(5);
      expect((await t.stats()).activeCalls).toBe(30);
      b!.sendFrame([2, 21, "attack.v1.Target/echo", null, null, UNARY_FLAGS, ["alive"]]);
      expect(await b!.waitFor(FrameType.RESPONSE)).toEqual([FrameType.RESPONSE, 21, ["alive"]]);
      expect(await ch.unary(T.later, { n: 1 })).toEqual({ n: 1 });
    });
  });

  test("a peer that keeps pushing REQUESTs past the limit gets GOAWAY ENHANCE_YOUR_CALM too_many_refused_calls; its calls end, others go on", async () => {
    await withTarget(d, { maxConcurrentCalls: 10, maxRefusedCallsPerSecond: 20 }, async (t) => {
      const ch = t.channel();
      const s = await t.socket();
      hangCalls(s, 1, 40);
      const ga = await s.goAway();
      expect(ga).not.toBeNull();
      expect(ga![3]).toBe(GoAwayReason.ENHANCE_YOUR_CALM);
      expect(String(ga![4]).startsWith(CalmToken.TOO_MANY_REFUSED_CALLS)).toBe(true);
      expect(String(ga![4])).toContain("maxRefusedCallsPerSecond 20");
      // The 21st refusal is one too many: ids 11-31 refused, 32-40 never read.
      expect(ga![2]).toBe(31);
      expect((await refusals(s, 21)).map((f) => f[1])).toEqual(Array.from({ length: 21 }, (_, i) => 11 + i));
      expect(await s.waitClosed()).toBe(true);
      for (let i = 0; i < 100 && (await t.probe()).running > 0; i++) await Bun.sleep(5);
      const p = await t.probe();
      expect([p.started, p.aborted, p.running]).toEqual([10, 10, 0]);
      expect(await ch.unary(T.echo, { text: "unaffected" })).toEqual({ text: "unaffected" });
    });
  });

  test("the defaults refuse nothing from the benchmark's shapes: 16 connections x depth 32 and 1 x 32 of open calls, and 32 streams at once", async () => {
    await withTarget(d, {}, async (t) => {
      const wide = t.channel(16);
      const narrow = t.channel(1);
      const depth = async (ch: ReturnType<typeof t.channel>, slots: number, rounds: number) => {
        let ok = 0;
        await Promise.all(
          Array.from({ length: slots }, async () => {
            for (let r = 0; r < rounds; r++) if ((await ch.unary(T.later, { n: 1 })).n === 1) ok++;
          }),
        );
        return ok;
      };
      const [w, n] = await Promise.all([depth(wide, 16 * 32, 10), depth(narrow, 32, 40)]);
      expect([w, n]).toEqual([16 * 32 * 10, 32 * 40]);
      const streamed = await Promise.all(
        Array.from({ length: 32 }, async () => {
          let got = 0;
          for await (const m of narrow.serverStream(T.watch, { n: 0 })) {
            expect(m.n).toBe(got);
            if (++got === 200) break;
          }
          return got;
        }),
      );
      expect(streamed).toEqual(Array.from({ length: 32 }, () => 200));
      expect((await t.stats()).totalConnections).toBe(17);
    });
  });
});

describe("server limit options", () => {
  test("every default is filled in; 0 turns maxServerConcurrentCalls off", () => {
    expect(resolveGuardLimits({})).toEqual({ ...DEFAULT_GUARD_LIMITS });
    expect(resolveGuardLimits({ maxServerConcurrentCalls: 0, frameTimeoutMs: 5 })).toEqual({ ...DEFAULT_GUARD_LIMITS, maxServerConcurrentCalls: Infinity, frameTimeoutMs: 5 });
  });

  test("a value that is not a usable integer is refused with the option's name", () => {
    expect(() => resolveGuardLimits({ frameTimeoutMs: -1 })).toThrow(
      'server option frameTimeoutMs must be an integer from 0 to 2147483647, got -1 (see docs/RPC.md, "Limits a peer cannot game")',
    );
    expect(() => resolveGuardLimits({ keepaliveMaxStrikes: 1.5 })).toThrow("server option keepaliveMaxStrikes must be an integer");
    expect(() => resolveGuardLimits({ idleTimeoutMs: 2 ** 31 })).toThrow("server option idleTimeoutMs must be an integer from 0 to 2147483647");
    expect(() => resolveGuardLimits({ maxCancelsPerSecond: Number.NaN })).toThrow("server option maxCancelsPerSecond");
  });
});
