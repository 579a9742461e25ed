/**
 * Time limits a slow or silent peer cannot game (docs/RPC.md, "Limits a peer
 * cannot game"), on both drivers, against a server in its own Worker: a
 * frame trickled in byte by byte is cut at frameTimeoutMs, a response stream
 * starved of credit ends at streamStallTimeoutMs, the idle timer fires while
 * calls are open and nothing moves (and not while the server streams), PINGs
 * faster than keepaliveMinIntervalMs strike out, and a connection is sent
 * away at its jittered maximum age and closed after the grace. Each limit is
 * set small so the test is fast; each bound has its measured value beside it.
 */
import { describe, expect, spyOn, test } from "bun:test";
import { ConnectionGuard, type GuardHost } from "../../src/rpc/connection-guard.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { CalmToken, CLOSE_LINGER_MS, resolveGuardLimits } from "../../src/rpc/server-limits.ts";
import { Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "../rpc/helpers/drivers.ts";
import { reportAttack } from "./fixtures/attack-report.ts";
import { echoLatencies, echoLatenciesWhile, percentile, withTarget } from "./fixtures/limits-harness.ts";
import { SERVER_STREAM_FLAGS, UNARY_FLAGS } from "./fixtures/limits-service.ts";
import { frames, type WireSocket } from "./fixtures/limits-socket.ts";

const ECHO = "attack.v1.Target/echo";
const HANG = "attack.v1.Target/hang";
const WATCH = "attack.v1.Target/watch";

/**
 * Asserts the socket got GOAWAY `reason` (message starting with `token`) and
 * was closed within the server's linger after it (this abuser never closes
 * on its own); returns the GOAWAY.
 */
async function expectGoAway(s: WireSocket, reason: number, token: string, timeoutMs = 3000): Promise<unknown[]> {
  const ga = await s.goAway(timeoutMs);
  expect(ga).not.toBeNull();
  expect(ga![3]).toBe(reason);
  expect(String(ga![4]).startsWith(token)).toBe(true);
  expect(await s.waitClosed(timeoutMs)).toBe(true);
  // The linger plus the driver's close (epoll waits up to 1 s for the
  // peer's FIN); measured 249-266 ms over 10 runs per driver, once 732 ms.
  expect(s.closedAt! - s.goAwayAt!).toBeLessThan(CLOSE_LINGER_MS + 1200);
  return ga!;
}

describeDrivers("attack: slow and idle peers", (d) => {
  test("frames trickled in byte by byte are cut at frameTimeoutMs with GOAWAY ENHANCE_YOUR_CALM frame_timeout; echo calls stay fast", async () => {
    await withTarget(d, { frameTimeoutMs: 200 }, async (t) => {
      const ch = t.channel();
      const quiet = await echoLatencies(ch, 300);
      const socks = await Promise.all(Array.from({ length: 20 }, () => t.socket()));
      // A 110-byte REQUEST sent one byte per 5 ms would take 550 ms: the
      // bytes keep coming during the whole deadline and must not extend it.
      const req = frames([2, 1, ECHO, null, null, UNARY_FLAGS, ["x".repeat(90)]]);
      const firstByte: number[] = [];
      const trickle = Promise.all(
        socks.map(async (s, i) => {
          firstByte[i] = performance.now();
          for (let k = 0; k < req.length && s.send(req.subarray(k, k + 1)); k++) await Bun.sleep(5);
        }),
      );
      const during = await echoLatenciesWhile(ch, 50, trickle);
      for (const [i, s] of socks.entries()) {
        const ga = await expectGoAway(s, GoAwayReason.ENHANCE_YOUR_CALM, CalmToken.FRAME_TIMEOUT);
        expect(String(ga[4])).toContain("frameTimeoutMs is 200");
        expect(s.of(FrameType.RESPONSE)).toEqual([]);
        const held = s.goAwayAt! - firstByte[i]!;
        // Measured 201-209 ms on both drivers (2 shared cores, 10 runs).
        expect(held).toBeGreaterThanOrEqual(195);
        expect(held).toBeLessThan(600);
      }
      // The well-behaved client: quiet p99 measured 0.6-9.7 ms (other
      // engineers share the 2 cores), during the trickle 0.07-5.3 ms; bound
      // 5x quiet or 15 ms, whichever is larger.
      expect(percentile(during, 99)).toBeLessThan(Math.max(5 * percentile(quiet, 99), 15));
      reportAttack({
        attack: "slowloris: 20 frames trickled 1 byte / 5 ms", driver: d.name, quietP99Ms: percentile(quiet, 99), duringP99Ms: percentile(during, 99),
        cutOffMs: Math.max(...socks.map((s, i) => s.goAwayAt! - firstByte[i]!)),
      });
    });
  });

  test("a response stream the client never grants credit ends with RESOURCE_EXHAUSTED at streamStallTimeoutMs; the connection stays usable", async () => {
    await withTarget(d, { streamStallTimeoutMs: 200 }, async (t) => {
      const s = await t.socket(2);
      const t0 = performance.now();
      s.sendFrame([2, 1, WATCH, null, null, SERVER_STREAM_FLAGS, [0]]);
      const st = await s.waitFor((f) => f[0] === FrameType.STATUS && f[1] === 1, 3000);
      const took = performance.now() - t0;
      expect(st).not.toBeNull();
      expect(st![2]).toBe(Status.RESOURCE_EXHAUSTED);
      expect(String(st![3])).toContain("streamStallTimeoutMs is 200");
      // Exactly the window's 2 messages went out before the stall.
      expect(s.of(FrameType.MESSAGE).length).toBe(2);
      // Measured 204-209 ms, once 258 ms.
      expect(took).toBeGreaterThanOrEqual(195);
      expect(took).toBeLessThan(600);
      const p = await t.probe();
      expect([p.started, p.aborted, p.running]).toEqual([1, 1, 0]);
      s.sendFrame([2, 2, ECHO, null, null, UNARY_FLAGS, ["after"]]);
      expect(await s.waitFor(FrameType.RESPONSE)).toEqual([FrameType.RESPONSE, 2, ["after"]]);
      expect(s.closed).toBe(false);
    });
  });

  test("the idle timer fires while a call is open and nothing moves, but not while the server streams to a silent client", async () => {
    await withTarget(d, { idleTimeoutMs: 200 }, async (t) => {
      const silent = await t.socket();
      const fed = await t.socket(1000);
      const t0 = performance.now();
      silent.sendFrame([2, 1, HANG, null, null, UNARY_FLAGS, [0]]);
      // One message every 40 ms, and the client sends nothing more.
      fed.sendFrame([2, 1, WATCH, null, null, SERVER_STREAM_FLAGS, [40]]);
      const ga = await expectGoAway(silent, GoAwayReason.IDLE_TIMEOUT, "idle for");
      expect(String(ga[4])).toContain("while 1 call was open");
      // Between 1 and 1.25 idle timeouts (writes are checked every quarter);
      // measured 250-258 ms.
      const took = silent.goAwayAt! - t0;
      expect(took).toBeGreaterThanOrEqual(195);
      expect(took).toBeLessThan(700);
      await Bun.sleep(600 - (performance.now() - t0));
      expect(fed.closed).toBe(false);
      expect(fed.of(FrameType.MESSAGE).length).toBeGreaterThan(8);
      const p = await t.probe();
      expect(p.started).toBe(2);
      expect(p.aborted).toBe(1);
    });
  });

  test("PINGs sooner than keepaliveMinIntervalMs strike out with GOAWAY ENHANCE_YOUR_CALM too_many_pings; spaced PINGs are answered", async () => {
    await withTarget(d, { keepaliveMinIntervalMs: 100, keepaliveMaxStrikes: 2 }, async (t) => {
      const flood = await t.socket();
      const polite = await t.socket();
      flood.sendFrame([10, 0, 1], [10, 0, 2], [10, 0, 3], [10, 0, 4], [10, 0, 5]);
      const ga = await expectGoAway(flood, GoAwayReason.ENHANCE_YOUR_CALM, CalmToken.TOO_MANY_PINGS);
      expect(String(ga[4])).toContain("keepaliveMinIntervalMs");
      // The first PING is free, two strikes are tolerated, the third ends it.
      expect(flood.of(FrameType.PONG)).toEqual([
        [11, 0, 1],
        [11, 0, 2],
        [11, 0, 3],
      ]);
      for (let i = 1; i <= 4; i++) {
        polite.sendFrame([10, 0, i]);
        await Bun.sleep(120);
      }
      expect(polite.of(FrameType.PONG).length).toBe(4);
      expect(polite.closed).toBe(false);
    });
  });

  test("at maxConnectionAgeMs (jittered ±10%) the server sends GOAWAY NO_ERROR, refuses new calls, and closes after the grace with the call still open", async () => {
    await withTarget(d, { maxConnectionAgeMs: 200, maxConnectionAgeGraceMs: 150 }, async (t) => {
      const socks = await Promise.all(Array.from({ length: 10 }, () => t.socket()));
      for (const s of socks) s.sendFrame([2, 1, HANG, null, null, UNARY_FLAGS, [0]]);
      const goAwayAt: number[] = [];
      for (const s of socks) {
        const ga = await s.goAway(2000);
        expect(ga).not.toBeNull();
        goAwayAt.push(s.goAwayAt! - s.openedAt);
        expect(ga!.slice(2, 4)).toEqual([1, GoAwayReason.NO_ERROR]);
        expect(String(ga![4])).toContain("max_age");
      }
      // 180-220 ms by the jitter (its spread is checked below, without the
      // timer noise); measured 183-225 ms.
      expect(Math.min(...goAwayAt)).toBeGreaterThanOrEqual(175);
      expect(Math.max(...goAwayAt)).toBeLessThan(500);
      const s = socks[0]!;
      s.sendFrame([2, 2, ECHO, null, null, UNARY_FLAGS, ["late"]]);
      const refused = await s.waitFor((f) => f[0] === FrameType.STATUS && f[1] === 2);
      expect(refused?.[2]).toBe(Status.UNAVAILABLE);
      for (const x of socks) {
        const st = await x.waitFor((f) => f[0] === FrameType.STATUS && f[1] === 1, 2000);
        expect(st?.[2]).toBe(Status.UNAVAILABLE);
        expect(String(st?.[3])).toContain("maxConnectionAgeGraceMs");
        expect(await x.waitClosed(2000)).toBe(true);
        // Age (180-220) plus grace 150: the last call's STATUS closes the
        // drained connection; measured 334-376 ms. The linger (250 ms) is
        // the bound's slack if the guard's own close comes first.
        const lived = x.closedAt! - x.openedAt;
        expect(lived).toBeGreaterThanOrEqual(320);
        expect(lived).toBeLessThan(1100);
      }
      const p = await t.probe();
      expect([p.started, p.running]).toEqual([10, 0]);
    });
  });
});

describe("attack: connection age jitter", () => {
  test("each connection's age is drawn from maxConnectionAgeMs ±10%, spread over the whole range", () => {
    const limits = resolveGuardLimits({ maxConnectionAgeMs: 1000, idleTimeoutMs: 0 });
    const host = { calls: new Map(), core: { lastRead: 0 }, out: { writes: 0 }, closing: false } as unknown as GuardHost;
    const delays: number[] = [];
    const spy = spyOn(globalThis, "setTimeout");
    try {
      for (let i = 0; i < 200; i++) {
        const g = new ConnectionGuard(limits, host);
        g.start();
        delays.push(Number(spy.mock.calls.at(-1)![1]));
        g.stop();
      }
    } finally {
      spy.mockRestore();
    }
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1100);
    // 200 uniform draws: the chance that they miss either end by 20 ms is 2 x 0.9^200, about 1e-9.
    expect(Math.min(...delays)).toBeLessThan(920);
    expect(Math.max(...delays)).toBeGreaterThan(1080);
  });
});
