/**
 * Ring-mode candidates, measured in one run (bench/RESULTS.md, "Ring
 * modes"): the bench server on io_uring in each candidate wake design, the
 * epoll fallback and the Tokio baseline, each pinned to CPU 0 and loaded by
 * bench/loadgen on CPU 1 at 1 connection depth 1, 16 connections depth 1 and
 * 16 connections depth 32. Prints a markdown table with req/s, p50/p99,
 * server CPU and req/s per server CPU-second. Candidates that need a code
 * change are built in a scratch git worktree of HEAD with that one patch.
 *   bun bench/ring-modes/run.ts [--seconds 2] [--reps 1]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf("--seconds") + 1] ?? 2) || 2;
const reps = Number(args[args.indexOf("--reps") + 1] ?? 1) || 1;
const loadgen = join(root, "bench/loadgen/build/loadgen");
const tokio = join(root, "bench/tokio/target/release/rpc_server");

interface Patch {
  file: string;
  from: string;
  to: string;
}

interface Candidate {
  name: string;
  env: Record<string, string>;
  driver: "uring" | "epoll" | "tokio";
  patch?: Patch;
}

const candidates: Candidate[] = [
  { name: "coop + TASKRUN_FLAG, eventfd (default)", driver: "uring", env: {} },
  {
    name: "coop without TASKRUN_FLAG",
    driver: "uring",
    env: {},
    patch: { file: "native/src/ring.c", from: "    COOP_FLAGS | IORING_SETUP_TASKRUN_FLAG,\n    COOP_FLAGS,\n    IORING_SETUP_SUBMIT_ALL,\n    0,\n};\nstatic const unsigned defer_attempts", to: "    COOP_FLAGS,\n    IORING_SETUP_SUBMIT_ALL,\n    0,\n};\nstatic const unsigned defer_attempts" },
  },
  { name: "defer, eventfd toggled (the code before #8)", driver: "uring", env: { RINGRPC_RING_MODE: "defer", RINGRPC_WAKE_CHECKS: "off" } },
  {
    name: "defer, eventfd never toggled off",
    driver: "uring",
    env: { RINGRPC_RING_MODE: "defer", RINGRPC_WAKE_CHECKS: "off" },
    patch: { file: "src/runtime/uring/ring.ts", from: "on && !this.eventfdMuted ? 1 : 0", to: "1" },
  },
  { name: "defer asked, self-test replaces it", driver: "uring", env: { RINGRPC_RING_MODE: "defer" } },
  { name: "coop, poll wake mode (safety net)", driver: "uring", env: { RINGRPC_TEST_FAULT: "mute-eventfd" } },
  { name: "epoll fallback", driver: "epoll", env: {} },
  { name: "Tokio current_thread", driver: "tokio", env: {} },
];

const loads = [
  { label: "1c d1", conns: 1, depth: 1 },
  { label: "16c d1", conns: 16, depth: 1 },
  { label: "16c d32", conns: 16, depth: 32 },
];

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]); // utime + stime (fields 14, 15)
}

function sh(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
}

/** A scratch tree of HEAD with the patch applied and native/ built; node_modules shared. */
function patchedTree(p: Patch, scratch: string, i: number): string {
  const tree = join(scratch, `tree${i}`);
  sh(["git", "worktree", "add", "--detach", tree, "HEAD"], root);
  symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
  const path = join(tree, p.file);
  const text = readFileSync(path, "utf8");
  if (text.split(p.from).length !== 2) throw new Error(`patch anchor not found once in ${p.file}`);
  writeFileSync(path, text.replace(p.from, p.to));
  sh(["make", "-s", "-C", "native"], tree);
  return tree;
}

async function startServer(c: Candidate, cwd: string, port: number): Promise<Bun.Subprocess<"ignore", "pipe", "pipe">> {
  const cmd = c.driver === "tokio"
    ? ["taskset", "-c", "0", tokio, "--port", String(port), "--current-thread"]
    : ["taskset", "-c", "0", process.execPath, join(cwd, "bench/server/server.ts"), "--port", String(port), "--workers", "1", "--driver", c.driver];
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...c.env } });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 15000;
  while (!text.includes("listening on")) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (next === null || next.done) throw new Error(`${c.name}: server did not start: ${text}`);
    text += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  return proc;
}

interface Cell { rps: number; p50: number; p99: number; cpuPct: number; perCpuSec: number }

function runLoad(port: number, pid: number, conns: number, depth: number): Cell {
  const t0 = cpuTicks(pid);
  const r = Bun.spawnSync([loadgen, "--port", String(port), "--conns", String(conns), "--depth", String(depth), "--duration", String(seconds),
    "--warmup", "0.3", "--mode", "rpc", "--method", "echo", "--cpu", "1"], { stdout: "pipe", stderr: "pipe" });
  const ticks = cpuTicks(pid) - t0;
  const j = JSON.parse(r.stdout.toString().trim().split("\n").at(-1)!);
  const cpuSec = ticks / 100; // USER_HZ
  const wall = seconds + 0.3;
  return { rps: j.rps, p50: j.latency_us.p50, p99: j.latency_us.p99, cpuPct: (cpuSec / wall) * 100, perCpuSec: (j.requests / cpuSec) * (wall / seconds) };
}

const scratch = mkdtempSync(join(tmpdir(), "ringrpc-ringmodes-"));
const results = new Map<string, Cell[][]>();
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, c] of candidates.entries()) {
      if (c.driver === "tokio" && !existsSync(tokio)) continue;
      const cwd = c.patch ? (existsSync(join(scratch, `tree${i}`)) ? join(scratch, `tree${i}`) : patchedTree(c.patch, scratch, i)) : root;
      const port = 21000 + i * 10 + rep;
      const proc = await startServer(c, cwd, port);
      const row = loads.map((l) => runLoad(port, proc.pid, l.conns, l.depth));
      proc.kill("SIGTERM");
      await proc.exited;
      const all = results.get(c.name) ?? [];
      all.push(row);
      results.set(c.name, all);
      console.error(`${c.name}: ${row.map((x, k) => `${loads[k]!.label} ${Math.round(x.rps)}/s p50 ${x.p50.toFixed(0)}us`).join(", ")}`);
    }
  }
} finally {
  for (let i = 0; i < candidates.length; i++) {
    if (existsSync(join(scratch, `tree${i}`))) Bun.spawnSync(["git", "worktree", "remove", "--force", join(scratch, `tree${i}`)], { cwd: root });
  }
  rmSync(scratch, { recursive: true, force: true });
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${Math.round(n / 1e3)}k` : `${Math.round(n)}`);
console.log(`| candidate | ${loads.map((l) => `${l.label} req/s (p50 / p99 µs)`).join(" | ")} | 16c d32 server CPU, req per CPU-s |`);
console.log(`|---|${loads.map(() => "---").join("|")}|---|`);
for (const [name, rows] of results) {
  // The median rep of each cell by req/s.
  const med = loads.map((_, k) => rows.map((r) => r[k]!).sort((a, b) => a.rps - b.rps)[rows.length >> 1]!);
  const last = med[2]!;
  console.log(`| ${name} | ${med.map((x) => `${fmt(x.rps)} (${x.p50.toFixed(0)} / ${x.p99.toFixed(0)})`).join(" | ")} | ${last.cpuPct.toFixed(0)}%, ${fmt(last.perCpuSec)} |`);
}
