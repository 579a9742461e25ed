/**
 * Where one RPC server's CPU time goes, per request: JIT code, other user
 * code (the bun binary, libc, the shim) and the kernel. Starts a matrix
 * contender (bench/matrix/rpc-contenders.ts) pinned to CPU 0 under
 * bench/loadgen on CPU 1 (16 connections, echo 64 B, closed loop), samples
 * the server with `perf record -e cpu-clock` for 3 s of the load, and prints
 * the rate under perf and the ns per request of each part. perf's own
 * overhead lowers the rate by ~10%. Used in bench/RESULTS.md 0.20. Needs
 * perf. Not a test.
 * Usage: node_modules/.bin/bun bench/cpu-split/run.ts <contender> [--depth 32]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { buildLoadgen, READY_LINE } from "../echo/contenders.ts";
import { startLoadgen } from "../echo/loadgen-client.ts";
import { ServerProcess } from "../echo/server-process.ts";
import { RPC_CONTENDERS } from "../matrix/rpc-contenders.ts";
import { freePort } from "../matrix/server-port.ts";

const WARMUP_S = 1;
/** The load runs this long; perf samples PERF_S of it, starting PERF_AFTER_S in. */
const LOAD_S = 5;
const PERF_AFTER_S = 2;
const PERF_S = 3;

/** Shares of the samples by object (`perf report --sort dso`) summed into the three parts, in percent. */
export function splitByObject(report: string): { jit: number; user: number; kernel: number } {
  const parts = { jit: 0, user: 0, kernel: 0 };
  for (const line of report.split("\n")) {
    const m = /^\s*([\d.]+)%\s+(\S.*?)\s*$/.exec(line);
    if (m === null) continue;
    const share = Number(m[1]);
    if (/JIT/.test(m[2]!)) parts.jit += share;
    else if (/kernel/.test(m[2]!)) parts.kernel += share;
    else parts.user += share;
  }
  return parts;
}

if (import.meta.main) {
  const args = parseArgs(Bun.argv.slice(2), { values: ["depth"] });
  const name = args.positionals[0];
  const contender = RPC_CONTENDERS.find((c) => c.name === name);
  if (contender === undefined) {
    console.error(`cpu-split: name a contender: ${RPC_CONTENDERS.map((c) => c.name).join(", ")}`);
    process.exit(2);
  }
  if (Bun.which("perf") === null) {
    console.error("cpu-split: perf is not installed (apt-get install linux-perf)");
    process.exit(2);
  }
  const depth = intFlag(args, "depth", 32, 1, 1024);
  contender.prepare();
  const loadgen = buildLoadgen();
  const port = freePort();
  const work = mkdtempSync(join(tmpdir(), "ringrpc-cpu-split-"));
  let server: ServerProcess | null = null;
  try {
    server = await ServerProcess.start(["taskset", "-c", contender.serverCpus ?? "0", ...contender.command(port)], contender.readyMustMatch ?? READY_LINE, 30_000);
    const run = startLoadgen({ binary: loadgen, port, cpu: 1, conns: 16, size: 64, depth, durationS: LOAD_S, warmupS: WARMUP_S, prefix: [], mode: "rpc", method: "echo" });
    await Bun.sleep(PERF_AFTER_S * 1000);
    const data = join(work, "perf.data");
    const rec = Bun.spawnSync(["perf", "record", "-e", "cpu-clock", "-p", String(server.pid), "-o", data, "--", "sleep", String(PERF_S)], { stdout: "ignore", stderr: "pipe" });
    if (rec.exitCode !== 0) throw new Error(`perf record failed: ${rec.stderr.toString().trim()}`);
    const { rps } = await run.report;
    const report = Bun.spawnSync(["perf", "report", "-i", data, "--no-children", "--sort", "dso"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
    const p = splitByObject(report);
    const ns = (share: number) => Math.round((share * 1e7) / rps);
    console.log(`${contender.name}: ${Math.round(rps)} req/s under perf; ns per request: JIT ${ns(p.jit)}, other user ${ns(p.user)}, kernel ${ns(p.kernel)}, total ${ns(p.jit + p.user + p.kernel)}`);
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
