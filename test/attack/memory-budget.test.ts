/**
 * The worker's memory budget (hardening issue, point 1; src/rpc/memory-budget.ts):
 * 100 connections each send 3 MiB of a frame that claims 4 MiB and then go
 * silent. Without a budget the server holds all of it (~300 MiB); with a
 * 32 MiB budget the connections over their share stop being read, the top
 * consumers are sent away with GOAWAY ENHANCE_YOUR_CALM once the budget is
 * passed, RSS stays bounded, and a well-behaved client is served
 * throughout. On a kv server process of each driver.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { KeyValueClient } from "../../examples/kv/gen/kv.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { writeHello } from "../../src/rpc/frames.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import type { ServerProcess } from "../helpers/server-process.ts";
import { rssMiB, startVictim, type Victim } from "./fixtures/victim.ts";

const uring = probeUring();
const ATTACKERS = 100;
const SENT_BYTES = 3 << 20;
const BUDGET_MB = 32;
/**
 * A stall bound for the other client during the attack, not a latency target: the attacker,
 * the server and this client share 2 vCPUs, and the server reads and drops ~100 MiB of attack
 * data meanwhile. Measured 2026-12-05: p99 3-38 ms on a quiet machine, up to 345 ms at load 7-8.
 */
const OTHER_CLIENT_P99_MS = 500;


/** HELLO, then the u32 prefix of a 4 MiB frame and `bytes` of its body (never finished). */
function partialFrame(bytes: number): Uint8Array {
  const w = new MsgWriter(bytes + 64);
  writeHello(w, { maxFrameBytes: 4 << 20, maxConcurrentCalls: 100, initialWindow: 64, maxMetadataBytes: 8192 });
  const out = new Uint8Array(w.pos + 4 + bytes);
  out.set(w.buf.subarray(0, w.pos));
  new DataView(out.buffer).setUint32(w.pos, 4 << 20);
  return out;
}

for (const driver of ["uring", "epoll"] as const) {
  const skip = driver === "uring" && !uring.ok;
  describe.skipIf(skip)(`memory budget, ${driver} server${skip ? ` (skipped: ${uring.reason})` : ""}`, () => {
    let victim: Victim;
    let server: ServerProcess;
    let kv: KeyValueClient;
    beforeAll(async () => {
      victim = await startVictim(driver, ["--budget-mb", String(BUDGET_MB)]);
      ({ server, kv } = victim);
    });
    afterAll(async () => {
      await victim?.stop();
    });

    test(`${ATTACKERS} connections x 3 MiB of an unfinished frame: RSS bounded by the ${BUDGET_MB} MiB budget, top consumers evicted, others served`, async () => {
      await kv.put({ key: "k", value: new Uint8Array(16), origin: 1 });
      for (let i = 0; i < 50; i++) await kv.get({ key: "k" });
      // Warm the fixed costs the attack would otherwise be charged with: 6 MiB of puts cycle the
      // io_uring driver's 4 MiB of receive buffers once and the JIT's large-frame paths.
      for (let i = 0; i < 3; i++) await kv.put({ key: "warm", value: new Uint8Array(2 << 20), origin: 1 });
      const base = rssMiB(server.proc.pid);
      const payload = partialFrame(SENT_BYTES);
      let closedByServer = 0;
      let goAways = 0;
      const sockets: Socket[] = [];
      for (let i = 0; i < ATTACKERS; i++) {
        const s = connect(server.port, "127.0.0.1");
        s.on("error", () => {});
        s.on("data", (d: Buffer) => {
          // GOAWAY is frame type 12 (0x0c): [0x95, 0x0c, ...] after the 4-byte prefix; HELLO comes first.
          for (let k = 0; k + 5 < d.length; k++) if (d[k] === 0x95 && d[k + 1] === 0x0c) goAways++;
        });
        s.on("close", () => closedByServer++);
        s.write(payload);
        sockets.push(s);
      }
      let peak = base;
      const latencies: number[] = [];
      const until = performance.now() + 2000;
      while (performance.now() < until) {
        const t0 = performance.now();
        const r = await kv.get({ key: "k" });
        latencies.push(performance.now() - t0);
        expect(r.entry.value.length).toBe(16);
        const now = rssMiB(server.proc.pid);
        peak = Math.max(peak, now);
        await Bun.sleep(5);
      }
      for (const s of sockets) s.destroy();
      latencies.sort((a, b) => a - b);
      const seen = {
        growthMiB: Math.round(peak - base),
        evicted: closedByServer,
        goAways,
        otherClientP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)]! * 100) / 100,
      };
      if (process.env.RINGRPC_TEST_VERBOSE) console.log(driver, seen);
      // Peak RSS growth is what the budget lets the attackers hold (at most the budget: past 0.8x the
      // heaviest are paused, past 1x the top one is evicted), kept in the worker's piece pool, plus on
      // epoll the chunks Bun allocates for every read, garbage once copied. Measured 2026-12-05 (2 vCPU
      // Xeon, 100 attackers, 32 MiB budget): 29-34 MiB on uring (72-81 before the piece pool), 77-89 MiB
      // on epoll; with a budget of 100 GiB every byte sent is held (191 MiB for 60 attackers). The other
      // client's p99: 2-10 ms.
      const within = seen.growthMiB < (driver === "uring" ? 1.5 : 3.5) * BUDGET_MB && seen.evicted > 0 && seen.goAways > 0 && seen.otherClientP99Ms < OTHER_CLIENT_P99_MS;
      expect({ ...seen, within }).toEqual({ ...seen, within: true });
      expect((await kv.get({ key: "k" })).entry.value.length).toBe(16);
    }, 30_000);
  });
}
