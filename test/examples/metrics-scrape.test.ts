/**
 * The metrics endpoint of a real server process: the kv example server on 2
 * workers with --metrics-port, scraped over HTTP while 8 connections keep
 * calling it (every scrape must be valid exposition text: the strict
 * checker of test/helpers/exposition-check.ts, and promtool when it is
 * installed), then once more after the load, where every call counter must
 * equal the calls made (summed over both workers), and each worker must
 * have its runtime series. The raw echo server (launch(), no RPC) exposes
 * its runtime series alone. The supervised mode (2 processes, scraped over
 * IPC through the supervisor) gets the same scrape checks.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { KeyValueClient } from "../../examples/kv/gen/kv.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { type ParsedFamily, parseExposition, sampleValue } from "../helpers/exposition-check.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const promtool = (() => {
  const r = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
})();
const NO_PROMTOOL = promtool === null ? "promtool is not installed (scripts/setup.sh installs it with Debian's prometheus package, as root with apt-get)" : null;

async function scrape(port: number): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

function metricsPort(s: ServerProcess): number {
  const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(s.stderr());
  if (m === null) throw new Error(`no metrics line in: ${s.stderr()}`);
  return Number(m[1]);
}

/** promtool's own check of a scrape, when it is installed. */
function promtoolCheck(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ringrpc-metrics-"));
  try {
    writeFileSync(join(dir, "scrape.txt"), text);
    const r = spawnSync("sh", ["-c", `${promtool} check metrics < ${join(dir, "scrape.txt")}`], { encoding: "utf8", timeout: 10_000 });
    return `${r.status}: ${r.stdout}${r.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const of = (method: string) => ({ grpc_service: "kv.v1.KeyValue", grpc_method: method, grpc_type: "unary" });

describe("metrics of a running kv server", () => {
  test("scrapes under load are valid, and afterwards every counter equals the calls made", async () => {
    const s = await startServer("examples/kv/server.ts", ["--port", "0", "--workers", "2", "--metrics-port", "0"]);
    const scrapes: string[] = [];
    let puts = 0;
    let hits = 0;
    let misses = 0;
    try {
      const port = metricsPort(s);
      const { runtime: rt } = await createRuntime({ driver: "epoll" });
      try {
        const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: s.port }], connectionsPerEndpoint: 8 });
        const kv = new KeyValueClient(ch);
        let loading = true;
        const worker = async (w: number) => {
          for (let i = 0; loading; i++) {
            await kv.put({ key: `k${w}.${i}`, value: new Uint8Array([i & 0xff]), origin: 1 });
            puts++;
            // Every worker has its own store: a get may land on a worker that never saw the put. Count what happened.
            for (const key of [`k${w}.${i}`, `missing${w}.${i}`]) {
              const outcome = await kv.get({ key }).then(() => "OK", (e: { code: string }) => e.code);
              if (outcome === "OK") hits++;
              else if (outcome === "kv.v1.KeyNotFound") misses++;
              else throw new Error(`get ${key}: ${outcome}`);
            }
          }
        };
        // 8 connections over SO_REUSEPORT: both workers get some with near certainty; checked below.
        // Errors are collected, not left unhandled: an unhandled rejection would end the test before its finally stops the server.
        const loadErrors: string[] = [];
        const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w))).catch((e: unknown) => {
          loadErrors.push(e instanceof Error ? e.message : String(e));
        });
        for (let i = 0; i < 3; i++) {
          await Bun.sleep(150);
          const r = await scrape(port);
          expect(r.status).toBe(200);
          expect(r.type).toBe("text/plain; version=0.0.4; charset=utf-8");
          scrapes.push(r.text);
        }
        loading = false;
        await load;
        expect(loadErrors).toEqual([]);
        await ch.close();
      } finally {
        await rt.close();
      }
      await Bun.sleep(50);
      const after = await scrape(port);
      scrapes.push(after.text);
      const f = parseExposition(after.text);
      expect(puts).toBeGreaterThan(50);
      expect(sampleValue(f, "grpc_server_started_total", of("put"))).toBe(puts);
      expect(sampleValue(f, "grpc_server_handled_total", { ...of("put"), grpc_code: "OK" })).toBe(puts);
      expect(sampleValue(f, "grpc_server_started_total", of("get"))).toBe(hits + misses);
      expect(sampleValue(f, "grpc_server_handled_total", { ...of("get"), grpc_code: "OK" })).toBe(hits);
      expect(sampleValue(f, "grpc_server_handled_total", { ...of("get"), grpc_code: "NotFound" })).toBe(misses);
      expect(sampleValue(f, "grpc_server_msg_received_total", of("get"))).toBe(hits + misses);
      expect(sampleValue(f, "grpc_server_msg_sent_total", of("get"))).toBe(hits);
      expect(sampleValue(f, "grpc_server_handling_seconds_count", of("put"))).toBe(puts);
      expect(sampleValue(f, "ringrpc_server_connections_accepted_total")).toBe(8);
      expect(sampleValue(f, "ringrpc_server_received_bytes_total")).toBeGreaterThan(puts * 20);
      const workers = (fam: ParsedFamily | undefined) => (fam?.samples ?? []).map((x) => x.labels.worker).sort();
      expect(workers(f.get("ringrpc_runtime_info"))).toEqual(["0", "1"]);
      expect(workers(f.get("ringrpc_runtime_ring_submissions_total"))).toEqual(["0", "1"]);
      // Both workers served calls: each one's completions grew past its idle start-up count.
      for (const x of f.get("ringrpc_runtime_ring_completions_total")!.samples) expect(x.value).toBeGreaterThan(100);
      // Scrapes taken under load parse too, and counters never went back between them.
      let last = 0;
      for (const text of scrapes) {
        const started = sampleValue(parseExposition(text), "grpc_server_started_total", of("put"));
        expect(started).toBeGreaterThanOrEqual(last);
        last = started;
      }
      const notFound = await fetch(`http://127.0.0.1:${port}/other`);
      expect(notFound.status).toBe(404);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    expect(s.stderr()).toMatch(/level=info msg="metrics on http:\/\/127\.0\.0\.1:\d+\/metrics" event=metrics_listening/);
  }, 60_000);

  test("the raw echo server (launch(), no RPC) exposes each worker's runtime series and nothing of RPC", async () => {
    const s = await startServer("examples/echo/server.ts", ["--port", "0", "--workers", "2", "--metrics-port", "0"]);
    try {
      const before = parseExposition((await scrape(metricsPort(s))).text);
      const echoed: string[] = [];
      for (let i = 0; i < 20; i++) {
        echoed.push(
          await new Promise<string>((resolve, reject) => {
            const sock = connect(s.port, "127.0.0.1", () => sock.write(`ping ${i}`));
            sock.setTimeout(5000, () => reject(new Error("echo timed out")));
            sock.once("data", (d) => {
              sock.destroy();
              resolve(d.toString());
            });
            sock.once("error", reject);
          }),
        );
      }
      expect(echoed).toEqual(Array.from({ length: 20 }, (_, i) => `ping ${i}`));
      await Bun.sleep(50);
      const after = parseExposition((await scrape(metricsPort(s))).text);
      expect([...after.keys()].filter((name) => name.startsWith("grpc_") || name.startsWith("ringrpc_server_"))).toEqual([]);
      expect(after.get("ringrpc_runtime_info")!.samples.map((x) => x.labels.worker).sort()).toEqual(["0", "1"]);
      const completions = (f: typeof after) => f.get("ringrpc_runtime_ring_completions_total")!.samples.reduce((n, x) => n + x.value, 0);
      // 20 connections accepted, read and written: at least 3 completions each (on either driver: epoll counts its accepts, reads and writes too).
      expect(completions(after) - completions(before)).toBeGreaterThanOrEqual(60);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 30_000);

  test.skipIf(NO_PROMTOOL !== null)(skipTitle("promtool check metrics accepts a scrape", NO_PROMTOOL), async () => {
    const s = await startServer("examples/kv/server.ts", ["--port", "0", "--workers", "1", "--metrics-port", "0"]);
    try {
      const r = await scrape(metricsPort(s));
      expect(promtoolCheck(r.text)).toMatch(/^0: /);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 30_000);

  test("supervised: 2 processes are scraped through the supervisor, runtime series labelled by process", async () => {
    const s = await startServer("examples/kv/server.ts", ["--port", "0", "--processes", "2", "--workers", "1", "--metrics-port", "0"], { timeoutMs: 30_000 });
    try {
      const { runtime: rt } = await createRuntime({ driver: "epoll" });
      let calls = 0;
      try {
        const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: s.port }], connectionsPerEndpoint: 4 });
        const kv = new KeyValueClient(ch);
        for (let i = 0; i < 200; i++) {
          await kv.put({ key: `s${i}`, value: new Uint8Array([1]), origin: 1 });
          calls++;
        }
        await ch.close();
      } finally {
        await rt.close();
      }
      const f = parseExposition((await scrape(metricsPort(s))).text);
      expect(sampleValue(f, "grpc_server_started_total", of("put"))).toBe(calls);
      const who = f.get("ringrpc_runtime_info")!.samples.map((x) => `${x.labels.process}/${x.labels.worker}`).sort();
      expect(who).toEqual(["0/0", "1/0"]);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 60_000);
});
