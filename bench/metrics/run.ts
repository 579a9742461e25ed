/**
 * The cost of metrics: the bench server (bench/server/server.ts, 1 worker,
 * pinned with `taskset -c <server-cpu>`) without and with --metrics-port,
 * interleaved (off, on, off, on, ...), each under bench/loadgen (rpc echo,
 * pinned to <loadgen-cpu>). Prints every run (req/s, and the server's CPU
 * time per call over the measured window: on a shared machine the steadier
 * of the two), then per pair the ratios on/off and their medians, and scrapes the "on" server once after each
 * run so a server that did not count is caught (its started calls must at
 * least cover loadgen's measured requests).
 *   bun bench/metrics/run.ts [--pairs 3] [--duration 3] [--warmup 1] [--depth 32] [--conns 16] [--driver uring]
 */
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { type LoadgenReport, startLoadgen } from "../echo/loadgen-client.ts";
import { ServerProcess } from "../echo/server-process.ts";

const args = parseArgs(process.argv.slice(2), {
  values: ["pairs", "duration", "warmup", "depth", "conns", "driver", "server-cpu", "loadgen-cpu"],
});
const pairs = intFlag(args, "pairs", 3, 1, 100);
const durationS = intFlag(args, "duration", 3, 1, 60);
const warmupS = intFlag(args, "warmup", 1, 0, 60);
const depth = intFlag(args, "depth", 32, 1, 4096);
const conns = intFlag(args, "conns", 16, 1, 4096);
const serverCpu = intFlag(args, "server-cpu", 0, 0, 1023);
const loadgenCpu = intFlag(args, "loadgen-cpu", 1, 0, 1023);
const driver = args.flags.get("driver") ?? "uring";
const root = new URL("../..", import.meta.url).pathname;
const READY = /listening on \S+:(\d+) driver=(\w+) workers=\d+(?: metrics=(\d+))?/;

async function scrapeStarted(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^grpc_server_started_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

async function one(metrics: boolean): Promise<LoadgenReport & { started: number | null; cpuUsPerCall: number; cpuPct: number }> {
  const argv = [
    "taskset", "-c", String(serverCpu), process.execPath, `${root}bench/server/server.ts`,
    "--port", "0", "--workers", "1", "--driver", driver, ...(metrics ? ["--metrics-port", "0"] : []),
  ];
  const server = await ServerProcess.start(argv, READY, 20_000);
  try {
    const m = READY.exec(server.readyLine)!;
    if (m[2] !== driver) throw new Error(`server runs ${m[2]}, not ${driver}`);
    const run = startLoadgen({
      binary: `${root}bench/loadgen/build/loadgen`, port: Number(m[1]), cpu: loadgenCpu, conns, size: 64, depth,
      durationS, warmupS, prefix: [], mode: "rpc", method: "echo",
    });
    await Bun.sleep(warmupS * 1000);
    const cpu0 = server.cpuSeconds();
    const report = await run.report;
    const cpuS = server.cpuSeconds() - cpu0;
    const cpuUsPerCall = (cpuS * 1e6) / report.requests;
    // The share of its CPU the server got: on a shared machine, what moves req/s most.
    const cpuPct = (100 * cpuS) / report.elapsed_s;
    const started = metrics ? await scrapeStarted(Number(m[3])) : null;
    if (started !== null && started < report.requests) throw new Error(`metrics counted ${started} calls, loadgen made ${report.requests} in its window alone`);
    return { ...report, started, cpuUsPerCall, cpuPct };
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const k = (n: number) => `${(n / 1e6).toFixed(2)}M`;

const ratios: number[] = [];
const cpuRatios: number[] = [];
const rows: string[] = [];
for (let p = 1; p <= pairs; p++) {
  const off = await one(false);
  const on = await one(true);
  const ratio = on.rps / off.rps;
  ratios.push(ratio);
  const cpuRatio = on.cpuUsPerCall / off.cpuUsPerCall;
  cpuRatios.push(cpuRatio);
  const us = (r: { cpuUsPerCall: number; cpuPct: number }) => `${r.cpuUsPerCall.toFixed(3)} | ${r.cpuPct.toFixed(0)}%`;
  const line = `| ${p} | ${k(off.rps)} | ${us(off)} | ${k(on.rps)} | ${us(on)} | ${ratio.toFixed(3)} | ${cpuRatio.toFixed(3)} |`;
  rows.push(line);
  console.log(line);
}
console.log(
  "\n| pair | off req/s | off CPU µs/call | off server CPU | on req/s | on CPU µs/call | on server CPU | req/s on/off | CPU/call on/off |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|",
);
for (const r of rows) console.log(r);
console.log(`\nmedian req/s on/off over ${pairs} pairs: ${median(ratios).toFixed(3)} (cost ${((1 - median(ratios)) * 100).toFixed(1)}%)`);
console.log(`median server CPU per call on/off: ${median(cpuRatios).toFixed(3)} (cost ${((median(cpuRatios) - 1) * 100).toFixed(1)}%)`);
