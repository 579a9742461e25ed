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
import { reportAttack } from "./fixtures/attack-report.ts";
import { getLoop, p99, rssMiB, startVictim, type Victim } from "./fixtures/victim.ts";

const uring = probeUring();
const ATTACKERS = 100;
const SENT_BYTES = 3 << 20;
const BUDGET_MB = 32;
/**
 * The other client's p99 during the attack must stay within 5x its quiet p99, or under this
 * floor, whichever is larger: the attacker, the server and this client share 2 vCPUs, and the
 * server reads and drops ~100-200 MiB of attack data meanwhile (on epoll with a few 3-8 ms heap
 * collections). Measured 2026-12-05 on a quiet machine: bench/RESULTS.md, "attack suite".
 */
const OTHER_CLIENT_FLOOR_MS = 25;



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
      const quiet = await getLoop(kv, "k", 1000, () => {});
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
      const during = await getLoop(kv, "k", 2000, () => {
        peak = Math.max(peak, rssMiB(server.proc.pid));
      });
      for (const s of sockets) s.destroy();
      const seen = {
        growthMiB: Math.round(peak - base),
        evicted: closedByServer,
        goAways,
        quietP99Ms: p99(quiet),
        otherClientP99Ms: p99(during),
      };
      reportAttack({ attack: `memory: ${ATTACKERS} conns x 3 MiB unfinished frames`, driver, quietP99Ms: seen.quietP99Ms, duringP99Ms: seen.otherClientP99Ms, growthMiB: seen.growthMiB, budgetMiB: BUDGET_MB });
      // Peak RSS growth is what the attackers may hold (the hold limit: 0.75x the budget on uring,
      // 0.55x on epoll), kept in the worker's piece pool, plus what the count cannot see: the
      // connections' own state, the read in flight and, on epoll, Bun's read buffers until the
      // budget has them collected. Measured 2026-12-05 (2 vCPU Xeon, 100 attackers, 32 MiB
      // budget): 27-29 MiB on both drivers (epoll 77-89 MiB before its read garbage was
      // collected); with a budget of 100 GiB every byte sent is held (191 MiB for 60 attackers).
      const within = seen.growthMiB < BUDGET_MB && seen.evicted > 0 && seen.goAways > 0 && seen.otherClientP99Ms < Math.max(5 * seen.quietP99Ms, OTHER_CLIENT_FLOOR_MS);
      expect({ ...seen, within }).toEqual({ ...seen, within: true });
      expect((await kv.get({ key: "k" })).entry.value.length).toBe(16);
    }, 30_000);
  });
}
