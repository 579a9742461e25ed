/**
 * The supervised mode's cost (bench/RESULTS.md, "Fault isolation: one process
 * or supervised processes"): the bench server as 1 process x 2 Workers
 * against 2 supervised processes x 1 Worker, runs interleaved (A B A B ...).
 * Per run: time from spawn to the ready line, RSS of the whole process tree
 * idle after start and at its peak under load, and req/s from bench/loadgen
 * (echo 64 B, 16 connections, depth 32) pinned to the given CPU. Workers sit
 * on CPUs 0 and 1 in both modes. Prints a markdown table and the ratios.
 *   bun bench/supervised/run.ts [--reps 3] [--duration 3] [--driver uring|epoll] [--loadgen-cpu 1]
 */
import { readdirSync, readFileSync } from "node:fs";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { startLoadgen } from "../echo/loadgen-client.ts";
import { machineFacts } from "../echo/machine-facts.ts";
import { median } from "../echo/summary-table.ts";

const root = new URL("../..", import.meta.url).pathname;
const args = parseArgs(process.argv.slice(2), { values: ["reps", "duration", "driver", "loadgen-cpu"] });
const reps = intFlag(args, "reps", 3, 1, 20);
const durationS = intFlag(args, "duration", 3, 1, 60);
const loadgenCpu = intFlag(args, "loadgen-cpu", 1, 0, 1023);
const driver = args.flags.get("driver") ?? "uring";

const MODES = {
  "1 process x 2 workers": ["--workers", "2"],
  "2 processes x 1 worker": ["--processes", "2", "--workers", "1"],
} as const;
type Mode = keyof typeof MODES;

interface Run {
  mode: Mode;
  startMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
  rps: number;
}

/** pid and every descendant, from /proc/<pid>/task/<tid>/children. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, "utf8").trim();
        if (kids !== "") out.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of tree(pid)) {
    try {
      kib += Number(readFileSync(`/proc/${p}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0);
    } catch {
      // exited while we looked
    }
  }
  return kib / 1024;
}

async function runOnce(mode: Mode): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn([process.execPath, "bench/server/server.ts", "--port", "0", "--driver", driver, ...MODES[mode]], {
    cwd: root, stdin: "ignore", stdout: "pipe", stderr: "ignore",
  });
  try {
    const reader = proc.stdout.getReader();
    let text = "";
    let m: RegExpMatchArray | null = null;
    while (m === null) {
      const r = await Promise.race([reader.read(), Bun.sleep(20_000).then(() => null)]);
      if (r === null || r.done) throw new Error(`${mode}: server not ready: ${text}`);
      text += new TextDecoder().decode(r.value);
      m = text.match(/listening on 127\.0\.0\.1:(\d+) driver=(\w+)/);
    }
    const startMs = performance.now() - t0;
    if (m[2] !== driver) throw new Error(`${mode}: server runs ${m[2]}, not ${driver}`);
    await Bun.sleep(500);
    const idleRssMiB = treeRssMiB(proc.pid);
    const run = startLoadgen({
      binary: `${root}bench/loadgen/build/loadgen`, port: Number(m[1]), cpu: loadgenCpu, conns: 16, size: 64, depth: 32,
      durationS, warmupS: 1, prefix: [], mode: "rpc", method: "echo",
    });
    let peakRssMiB = idleRssMiB;
    let done = false;
    const report = run.report.finally(() => (done = true));
    while (!done) {
      peakRssMiB = Math.max(peakRssMiB, treeRssMiB(proc.pid));
      await Bun.sleep(250);
    }
    const r = await report;
    if (r.errors > 0 || r.error !== null) throw new Error(`${mode}: loadgen saw ${r.errors} errors: ${r.error}`);
    return { mode, startMs, idleRssMiB, peakRssMiB, rps: r.rps };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const facts = machineFacts(process.execPath, `bun bench/supervised/run.ts ${process.argv.slice(2).join(" ")}`.trim());
const runs: Run[] = [];
for (let i = 0; i < reps; i++) {
  for (const mode of Object.keys(MODES) as Mode[]) {
    const r = await runOnce(mode);
    runs.push(r);
    console.error(`${mode}: start ${r.startMs.toFixed(0)} ms, RSS idle ${r.idleRssMiB.toFixed(0)} MiB, peak ${r.peakRssMiB.toFixed(0)} MiB, ${(r.rps / 1e6).toFixed(2)}M req/s`);
  }
}

const cols = ["startMs", "idleRssMiB", "peakRssMiB", "rps"] as const;
const show = (k: (typeof cols)[number], v: number) => (k === "rps" ? `${(v / 1e6).toFixed(2)}M` : v.toFixed(0));
const med = (mode: Mode, k: (typeof cols)[number]) => median(runs.filter((r) => r.mode === mode).map((r) => r[k]));
console.log(`${facts.date} · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus} · driver ${driver}, loadgen CPU ${loadgenCpu}`);
console.log(`command: ${facts.command}\n`);
console.log("| mode | start to ready (ms) | RSS idle (MiB) | RSS peak under load (MiB) | req/s (echo 64 B, 16 conns, depth 32) |");
console.log("|---|---:|---:|---:|---:|");
for (const mode of Object.keys(MODES) as Mode[]) {
  const mine = runs.filter((r) => r.mode === mode);
  console.log(`| ${mode} | ${cols.map((k) => `${mine.map((r) => show(k, r[k])).join(", ")} (median ${show(k, med(mode, k))})`).join(" | ")} |`);
}
const [a, b] = Object.keys(MODES) as Mode[];
console.log(`| ratio (medians, processes / threads) | ${cols.map((k) => (med(b!, k) / med(a!, k)).toFixed(2)).join(" | ")} |`);
