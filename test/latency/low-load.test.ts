/**
 * Latency at low load is a correctness property: a lost or late idle
 * wake-up once cost every call ~16 ms on io_uring while every throughput
 * test passed. For each server driver, a real server process (CPU 0) is
 * called by bench/loadgen and by the ringrpc JS client on each driver (last
 * CPU), one connection with 2,000 sequential calls, and 16 connections at
 * depth 1; each run's p99 must stay under a bound a stall cannot meet. The
 * io_uring server and client must also report a passed wake self-test and
 * the eventfd wake mode (no silent degradation to polling). A run that
 * misses its bound is repeated up to twice (bestOf): a stall misses every
 * time, while on these shared VMs 0.5-1.2% of sequential calls take 1-4 ms
 * (measured 2026-12-05, scattered over the run, not warm-up), which puts a
 * 2,000-call p99 near its bound now and then.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { skipTitle } from "../helpers/skip.ts";
import { startServer, type ServerProcess } from "../helpers/server-process.ts";
import { bestOf, loadgenPath, runJsClient, runLoadgen } from "./fixtures/latency-runs.ts";

const probe = probeUring();
const noLoadgen = existsSync(loadgenPath) ? null : `bench/loadgen not built (${loadgenPath}): run make -C bench/loadgen`;
const uringSkip = probe.ok ? null : `io_uring unavailable: ${probe.reason}`;
const drivers = ["uring", "epoll"] as const;

// Bounds from the issue. Measured 2026-12-05 on the 2 vCPU Xeon (kernel
// 6.18.44-fc-v1252, COOP ring), quiet machine, p99: 1 connection 0.13-0.33
// ms (loadgen) and 0.16-0.33 ms (JS client, warmed up); 16 connections at
// depth 1 0.15-0.2 ms (loadgen) and 0.27-0.82 ms (JS client). The stall this
// guards against gave p50 16 ms and p99 21-24 ms.
const SEQUENTIAL_P99_US = 2000;
const SIXTEEN_CONNS_P99_US = 5000;
/** The stalled server did 66 calls/s; a healthy one does ~10k at depth 1. */
const SEQUENTIAL_CALLS = 2000;

const wakeOk = /ring=coop wake=eventfd \(wake self-test, p50 [\d.]+ ms, max [\d.]+ ms, [01]\/12 late\)/;

for (const server of drivers) {
  const skip = server === "uring" ? uringSkip : null;
  describe.skipIf(skip !== null)(`${server} server at low load${skip ? ` (skipped: ${skip})` : ""}`, () => {
    let srv: ServerProcess;
    beforeAll(async () => {
      srv = await startServer("bench/server/server.ts", ["--port", "0", "--workers", "1", "--driver", server]);
      // The startup line goes to stderr right before the ready line on stdout.
      for (let i = 0; i < 50 && !srv.stderr().includes("driver="); i++) await Bun.sleep(10);
    });
    afterAll(async () => {
      expect(await srv.stop()).toBe(0);
    });

    if (server === "uring") {
      test("the server's startup line reports a COOP ring woken by its eventfd after a passed self-test", () => {
        expect(srv.stderr()).toMatch(wakeOk);
      });
    }

    test.skipIf(noLoadgen !== null)(skipTitle(`loadgen, 1 connection, ${SEQUENTIAL_CALLS}+ sequential calls: p99 < ${SEQUENTIAL_P99_US / 1000} ms`, noLoadgen), async () => {
      const r = await bestOf(3, () => runLoadgen(srv.port, 1, 0.5), (x) => x.latency_us.p99 < SEQUENTIAL_P99_US);
      expect(r.errors).toBe(0);
      expect(r.requests).toBeGreaterThanOrEqual(SEQUENTIAL_CALLS);
      expect(r.latency_us.p99).toBeLessThan(SEQUENTIAL_P99_US);
    });

    test.skipIf(noLoadgen !== null)(skipTitle(`loadgen, 16 connections at depth 1: p99 < ${SIXTEEN_CONNS_P99_US / 1000} ms`, noLoadgen), async () => {
      const r = await bestOf(3, () => runLoadgen(srv.port, 16, 0.5), (x) => x.latency_us.p99 < SIXTEEN_CONNS_P99_US);
      expect(r.errors).toBe(0);
      expect(r.latency_us.p99).toBeLessThan(SIXTEEN_CONNS_P99_US);
    });

    for (const client of drivers) {
      const cskip = client === "uring" ? uringSkip : null;
      test.skipIf(cskip !== null)(`JS client on ${client}, 1 connection, ${SEQUENTIAL_CALLS} sequential calls: p99 < ${SEQUENTIAL_P99_US / 1000} ms${cskip ? ` (skipped: ${cskip})` : ""}`, async () => {
        const r = await bestOf(3, () => runJsClient(client, srv.port, 1, SEQUENTIAL_CALLS, 2000), (x) => x.p99Us < SEQUENTIAL_P99_US);
        expect(r.driver).toBe(client);
        expect(r.errors).toBe(0);
        expect(r.calls).toBe(SEQUENTIAL_CALLS);
        if (client === "uring") {
          expect(r.line).toMatch(wakeOk);
          expect(r.wake?.lateWakes).toBe(0);
        }
        expect(r.p99Us).toBeLessThan(SEQUENTIAL_P99_US);
      });

      test.skipIf(cskip !== null)(`JS client on ${client}, 16 connections at depth 1: p99 < ${SIXTEEN_CONNS_P99_US / 1000} ms${cskip ? ` (skipped: ${cskip})` : ""}`, async () => {
        const r = await bestOf(3, () => runJsClient(client, srv.port, 16, 1000, 1500), (x) => x.p99Us < SIXTEEN_CONNS_P99_US);
        expect(r.errors).toBe(0);
        expect(r.calls).toBe(16 * 1000);
        expect(r.p99Us).toBeLessThan(SIXTEEN_CONNS_P99_US);
      });
    }
  });
}
