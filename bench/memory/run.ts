/**
 * Server memory under load, per driver (bench/RESULTS.md, "Memory under
 * load"): the bench server pinned to CPU 0 under bench/loadgen on CPU 1, at a
 * fixed rate (the same load for every driver) and closed loop at depth 32;
 * RSS sampled each second (the last sample also split into anonymous and
 * file-backed pages), and JS heap bytes allocated per request, the number of
 * collections and the heap each collection left, read from JSC's GC log
 * (BUN_JSC_logGC=1, concurrent GC off so every collection is logged whole).
 * Prints a markdown table.
 *   bun bench/memory/run.ts [--rate 200000] [--seconds 3]
 */
import { readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../matrix/server-port.ts";

const root = new URL("../..", import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const rate = flag("--rate", 200_000);
const seconds = flag("--seconds", 3);
const loadgen = join(root, "bench/loadgen/build/loadgen");

/** Heap bytes allocated between two byte offsets of a GC log: the heap a collection starts with minus what the previous one left. */
export function allocatedInWindow(log: string, from: number, to: number): { bytes: number; collections: number } {
  const before = [...log.slice(0, from).matchAll(/=> (\d+)kb/g)];
  let left = before.length > 0 ? Number(before.at(-1)![1]) : 0;
  let bytes = 0;
  let collections = 0;
  for (const m of log.slice(from, to).matchAll(/START M (\d+)kb|=> (\d+)kb/g)) {
    if (m[1] === undefined) left = Number(m[2]);
    else {
      bytes += (Number(m[1]) - left) * 1024;
      collections++;
    }
  }
  return { bytes, collections };
}

/** The median heap a collection left in the window (JSC's "=> N kb"), in KiB: the live heap the next collection's threshold grows from. */
export function liveAfterCollections(log: string, from: number, to: number): number {
  const left = [...log.slice(from, to).matchAll(/=> (\d+)kb/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  return left.length === 0 ? NaN : left[left.length >> 1]!;
}

/** One line of /proc/PID/status in MiB (VmRSS, RssAnon, RssFile). */
function statusMiB(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function measure(driver: "uring" | "epoll", port: number, load: string[]): Promise<{ rps: number; rss: number[]; anon: number; file: number; perReq: number; collections: number; liveKiB: number }> {
  const errPath = join(tmpdir(), `ringrpc-memory-${driver}-${port}.log`);
  // The child writes its GC log from offset 0 without truncating: a longer log left by an earlier run would hide this one's window.
  rmSync(errPath, { force: true });
  const proc = Bun.spawn(["taskset", "-c", "0", process.execPath, join(root, "bench/server/server.ts"), "--port", String(port), "--workers", "1", "--driver", driver], {
    cwd: root, stdout: "pipe", stderr: Bun.file(errPath), env: { ...process.env, BUN_JSC_logGC: "1", BUN_JSC_useConcurrentGC: "0" },
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("listening on")) {
    const r = await reader.read();
    if (r.done) throw new Error(`${driver} server did not start`);
    text += new TextDecoder().decode(r.value);
  }
  const lg = (secs: number) => Bun.spawn([loadgen, "--port", String(port), "--conns", "16", "--depth", "32", ...load, "--duration", String(secs), "--warmup", "0", "--mode", "rpc", "--method", "echo", "--cpu", "1"], { stdout: "pipe" });
  const rss: number[] = [];
  // The last sample split: anonymous memory (heaps, buffers, rings) and file pages (the bun binary's code that ran).
  let anon = NaN;
  let file = NaN;
  let out: string;
  let from: number;
  let to: number;
  try {
    await lg(1).exited; // warm-up: JIT and the first collections
    from = statSync(errPath).size;
    const run = lg(seconds);
    for (let t = 0; t < seconds; t++) {
      await Bun.sleep(1000);
      rss.push(statusMiB(proc.pid, "VmRSS"));
    }
    anon = statusMiB(proc.pid, "RssAnon");
    file = statusMiB(proc.pid, "RssFile");
    out = await new Response(run.stdout).text();
    to = statSync(errPath).size;
  } finally {
    // A failed run (no load generator built, say) must not leave the server holding the port.
    proc.kill("SIGTERM");
    await proc.exited;
  }
  const j = JSON.parse(out.trim().split("\n").at(-1)!);
  const log = readFileSync(errPath, "utf8");
  const { bytes, collections } = allocatedInWindow(log, from, to);
  return { rps: j.rps, rss, anon, file, perReq: bytes / j.requests, collections, liveKiB: liveAfterCollections(log, from, to) };
}

if (import.meta.main) {
  console.log(`| driver | load | req/s | RSS MiB each second | anon / file MiB at the end | heap bytes/request | collections in ${seconds} s | heap left by a collection, MiB (median) |`);
  console.log("|---|---|---:|---|---|---:|---:|---:|");
  for (const [label, load] of [[`fixed ${rate / 1000}k req/s`, ["--rate", String(rate)]], ["closed loop, depth 32", []]] as const) {
    for (const driver of ["epoll", "uring"] as const) {
      const r = await measure(driver, freePort(), [...load]);
      console.log(`| ${driver} | ${label} | ${Math.round(r.rps / 1000)}k | ${r.rss.map((x) => x.toFixed(0)).join(", ")} | ${r.anon.toFixed(1)} / ${r.file.toFixed(1)} | ${Math.round(r.perReq)} | ${r.collections} | ${(r.liveKiB / 1024).toFixed(1)} |`);
    }
  }
}
