/**
 * The cost of one proxy hop (bench/RESULTS.md, "Behind HAProxy"): the bench
 * server on io_uring (1 worker, `taskset -c 0`) loaded by bench/loadgen
 * (`--cpu 1`) directly, and through HAProxy in TCP mode (nbthread 1, pinned
 * with cpu-map, the configuration of bench/proxy/haproxy-config.ts with a
 * TCP check), at 16 connections, depth 1 and depth 32. Direct and proxied
 * runs are interleaved (direct, proxied, direct, proxied, ...) for `--pairs`
 * pairs per depth; prints each run and a markdown table of medians and
 * proxied/direct ratios. The machine has 2 vCPUs, so HAProxy shares one:
 * `--haproxy-cpu 1` (default) puts it beside the load generator,
 * `--haproxy-cpu 0` beside the server.
 *   bun bench/proxy/hop.ts [--pairs 3] [--seconds 3] [--haproxy-cpu 1]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../matrix/server-port.ts";
import { haproxyConfig } from "./haproxy-config.ts";

const root = new URL("../..", import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i < 0 ? dflt : Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
};
const pairs = flag("pairs", 3);
const seconds = flag("seconds", 3);
const haproxyCpu = flag("haproxy-cpu", 1);
const loadgen = join(root, "bench/loadgen/build/loadgen");
const haproxy = Bun.which("haproxy");
if (haproxy === null) throw new Error("haproxy is not installed: run bash scripts/setup.sh (as root it installs it with apt-get)");

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]);
}

async function waitForLine(stream: ReadableStream<Uint8Array>, needle: string, what: string): Promise<void> {
  const reader = stream.getReader();
  let text = "";
  const deadline = Date.now() + 15000;
  while (!text.includes(needle)) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (next === null || next.done) throw new Error(`${what} did not start: ${text}`);
    text += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
}

async function waitForPort(port: number): Promise<void> {
  const end = Date.now() + 5000;
  for (;;) {
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then((s) => (s.end(), true), () => false);
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await Bun.sleep(50);
  }
}

interface Run { rps: number; p50: number; p99: number; serverCpu: number; proxyCpu: number }

function load(port: number, depth: number, serverPid: number, proxyPid: number): Run {
  const s0 = cpuTicks(serverPid);
  const h0 = cpuTicks(proxyPid);
  const r = Bun.spawnSync([loadgen, "--port", String(port), "--conns", "16", "--depth", String(depth), "--duration", String(seconds),
    "--warmup", "0.5", "--mode", "rpc", "--method", "echo", "--size", "64", "--cpu", "1"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`loadgen failed: ${r.stderr.toString()}`);
  const j = JSON.parse(r.stdout.toString().trim().split("\n").at(-1)!);
  const wall = seconds + 0.5;
  return {
    rps: j.rps, p50: j.latency_us.p50, p99: j.latency_us.p99,
    serverCpu: ((cpuTicks(serverPid) - s0) / 100 / wall) * 100,
    proxyCpu: ((cpuTicks(proxyPid) - h0) / 100 / wall) * 100,
  };
}

const dir = mkdtempSync(join(tmpdir(), "ringrpc-hop-"));
const serverPort = freePort();
const proxyPort = freePort();
const server = Bun.spawn(["taskset", "-c", "0", process.execPath, join(root, "bench/server/server.ts"), "--port", String(serverPort), "--workers", "1", "--driver", "uring"],
  { cwd: root, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
let proxy: Bun.Subprocess | null = null;
const runs: Record<string, Run[]> = {};
try {
  await waitForLine(server.stdout, "driver=uring", "the bench server on io_uring");
  writeFileSync(join(dir, "haproxy.cfg"), haproxyConfig({
    port: proxyPort, backends: [{ name: "a", host: "127.0.0.1", port: serverPort }], check: "tcp", checkIntervalMs: 1000, cpu: haproxyCpu,
  }));
  // taskset too: cpu-map pins the thread, taskset the process before it starts.
  proxy = Bun.spawn(["taskset", "-c", String(haproxyCpu), haproxy, "-db", "-f", join(dir, "haproxy.cfg")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await waitForPort(proxyPort);
  for (const depth of [1, 32]) {
    for (let i = 0; i < pairs; i++) {
      for (const [how, port] of [["direct", serverPort], ["proxied", proxyPort]] as const) {
        const r = load(port, depth, server.pid, proxy.pid);
        (runs[`${how} d${depth}`] ??= []).push(r);
        console.error(`${how} depth ${depth} run ${i + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(0)} µs, p99 ${r.p99.toFixed(0)} µs, server CPU ${r.serverCpu.toFixed(0)}%, haproxy CPU ${r.proxyCpu.toFixed(0)}%`);
      }
    }
  }
} finally {
  proxy?.kill("SIGTERM");
  server.kill("SIGTERM");
  await Promise.all([proxy?.exited, server.exited]);
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${Math.round(n / 1e3)}k` : `${Math.round(n)}`);
console.log(`| 16 conns | direct req/s | proxied req/s | ratio | direct p50 / p99 µs | proxied p50 / p99 µs | p50 added | server CPU direct / proxied | haproxy CPU |`);
console.log(`|---|---|---|---|---|---|---|---|---|`);
for (const depth of [1, 32]) {
  const d = runs[`direct d${depth}`]!;
  const p = runs[`proxied d${depth}`]!;
  const m = (rs: Run[], k: keyof Run) => median(rs.map((r) => r[k]));
  console.log(`| depth ${depth} | ${fmt(m(d, "rps"))} | ${fmt(m(p, "rps"))} | ${(m(p, "rps") / m(d, "rps")).toFixed(2)}x | ${m(d, "p50").toFixed(0)} / ${m(d, "p99").toFixed(0)} | ${m(p, "p50").toFixed(0)} / ${m(p, "p99").toFixed(0)} | +${(m(p, "p50") - m(d, "p50")).toFixed(0)} µs | ${m(d, "serverCpu").toFixed(0)}% / ${m(p, "serverCpu").toFixed(0)}% | ${m(p, "proxyCpu").toFixed(0)}% |`);
}
