/**
 * Response amplification (hardening issue, first row): a peer pipelines many
 * small `get`s of a 1 MiB value and never reads the answers. The server may
 * queue no more than its write high-water mark (4 MiB) plus one answer for
 * that connection: the REQUESTs it has read but not answered wait until the
 * output drains (server-connection.ts, FrameDecoder.hold). Checked on a real
 * kv server process on each driver: its RSS while the attack runs, and
 * another client's calls answered meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KeyValueClient } from "../../examples/kv/gen/kv.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { MessageType } from "../../src/rpc/descriptor.ts";
import { writeHello, writeRequest } from "../../src/rpc/frames.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import type { ServerProcess } from "../helpers/server-process.ts";
import { reportAttack } from "./fixtures/attack-report.ts";
import { getLoop, p99, rssMiB, startVictim, type Victim } from "./fixtures/victim.ts";

const root = new URL("../..", import.meta.url).pathname;
const uring = probeUring();
const VALUE_BYTES = 1 << 20;
const GETS = 400;
/**
 * The other client's p99 during the attack must stay within 5x its quiet p99, or under this
 * floor (2 shared vCPUs), whichever is larger; before the fix its calls hit their 500 ms deadline.
 */
const OTHER_CLIENT_FLOOR_MS = 25;


/** HELLO, then `count` pipelined unary REQUESTs for kv.v1.KeyValue/get of `key`: one write, ~40 bytes per call. */
function pipelinedGets(key: string, count: number): Uint8Array {
  const w = new MsgWriter(1 << 16);
  writeHello(w, { maxFrameBytes: 4 << 20, maxConcurrentCalls: 100, initialWindow: 64, maxMetadataBytes: 8192 });
  const getRequest: MessageType<string> = {
    typeName: "kv.v1.GetRequest",
    encode: (wr, k) => {
      wr.mapHeader(1);
      wr.int(1);
      wr.str(k);
    },
    decode: () => "",
    validate: () => null,
  };
  for (let i = 0; i < count; i++) writeRequest(w, i + 1, "kv.v1.KeyValue/get", undefined, undefined, 1, getRequest, key, 1 << 20);
  return w.buf.slice(0, w.pos);
}

for (const driver of ["uring", "epoll"] as const) {
  const skip = driver === "uring" && !uring.ok;
  describe.skipIf(skip)(`response amplification, ${driver} server${skip ? ` (skipped: ${uring.reason})` : ""}`, () => {
    let victim: Victim;
    let server: ServerProcess;
    let kv: KeyValueClient;
    beforeAll(async () => {
      victim = await startVictim(driver, []);
      ({ server, kv } = victim);
    });
    afterAll(async () => {
      await victim?.stop();
    });

    test(`${GETS} pipelined gets of a 1 MiB value, never read: RSS grows by less than 64 MiB and another client is served`, async () => {
      await kv.put({ key: "big", value: new Uint8Array(VALUE_BYTES).fill(7), origin: 1 });
      await kv.put({ key: "small", value: new Uint8Array(8), origin: 1 });
      for (let i = 0; i < 50; i++) await kv.get({ key: "small" }); // warm both paths before the baseline
      const quiet = await getLoop(kv, "small", 1000, () => {});
      const base = rssMiB(server.proc.pid);
      const attacker = Bun.spawn(["python3", `${root}test/attack/fixtures/silent-peer.py`, String(server.port), "3"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      attacker.stdin.write(pipelinedGets("big", GETS));
      await attacker.stdin.end();
      let peak = base;
      const during = await getLoop(kv, "small", 1500, () => {
        peak = Math.max(peak, rssMiB(server.proc.pid));
      });
      attacker.kill();
      await attacker.exited;
      // Measured 2026-12-05 (2 vCPU Xeon): growth 5-12 MiB with the hold, ~400 MiB without it
      // (every get answered into the output at once).
      const seen = { growthMiB: Math.round(peak - base), quietP99Ms: p99(quiet), otherClientP99Ms: p99(during), otherClientCalls: during.length };
      reportAttack({ attack: `amplification: ${GETS} pipelined 1 MiB gets never read`, driver, quietP99Ms: seen.quietP99Ms, duringP99Ms: seen.otherClientP99Ms, growthMiB: seen.growthMiB });
      const within = seen.growthMiB < 64 && seen.otherClientP99Ms < Math.max(5 * seen.quietP99Ms, OTHER_CLIENT_FLOOR_MS) && during.length > 50;
      expect({ ...seen, within }).toEqual({ ...seen, within: true });
      // The server keeps serving after the attacker is gone.
      expect((await kv.get({ key: "small" })).entry.value.length).toBe(8);
    }, 30_000);
  });
}
