/**
 * Client profile: how fast the ringrpc JS client drives one bench server,
 * against bench/loadgen driving the same server in the same run.
 *
 * One server (`taskset -c SCPU bun bench/server/server.ts --driver uring
 * --workers 1`); then, for each repetition and each depth, interleaved:
 * loadgen (`taskset -c CCPU`, 1 connection, --mode rpc --method echo
 * --size 64) and the JS client (client.ts, pinned the same way) on each
 * RINGRPC_DRIVER. Prints every run, then medians and the ratio JS/loadgen,
 * with each side's CPU share during each run (is either side the limit?) and
 * the client's CPU time per call (its cost, whatever limits the rate).
 * With --allocs N it also measures the client's heap bytes per call from
 * JSC's GC log (BUN_JSC_logGC=1), summed between client.ts's markers.
 * With --base DIR it also runs DIR/bench/client-profile/client.ts (another
 * checkout, e.g. the commit before a change) as `base-<driver>`, interleaved,
 * so a before/after comparison shares one server and one machine state.
 *   bun bench/client-profile/run.ts [--reps 3] [--depths 32,1] [--drivers uring,epoll] [--duration 2] [--allocs 300000] [--server-driver uring] [--base DIR]
 */
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { ServerProcess } from "../echo/server-process.ts";
import { startLoadgen } from "../echo/loadgen-client.ts";
import { allocatedBetweenMarkers } from "./gc-log.ts";

const BUN = process.execPath;
const ROOT = new URL("../..", import.meta.url).pathname;
const LOADGEN = `${ROOT}bench/loadgen/build/loadgen`;

interface Row {
  who: string;
  /** uring clients: ring/wake mode (a "poll" run was measured in the degraded wake mode). */
  wake: string | null;
  depth: number;
  rps: number;
  clientCpu: number;
  serverCpu: number;
}

const args = parseArgs(process.argv.slice(2), { values: ["reps", "depths", "drivers", "duration", "allocs", "server-driver", "port", "server-cpu", "client-cpu", "base"] });
const reps = intFlag(args, "reps", 3, 1, 100);
const depths = (args.flags.get("depths") ?? "32,1").split(",").map(Number);
const drivers = (args.flags.get("drivers") ?? "uring,epoll").split(",");
const duration = Number(args.flags.get("duration") ?? "2");
const allocs = intFlag(args, "allocs", 0);
const serverDriver = args.flags.get("server-driver") ?? "uring";
const port = intFlag(args, "port", 7000 + (process.pid % 2000), 1, 65535);
const serverCpu = intFlag(args, "server-cpu", 0);
const clientCpu = intFlag(args, "client-cpu", 1);
const base = args.flags.get("base");
/** Client contenders: label prefix and the checkout whose client.ts runs. */
const trees: { label: string; root: string }[] = [{ label: "js", root: ROOT }];
if (base !== undefined) trees.unshift({ label: "base", root: base.endsWith("/") ? base : `${base}/` });

/** Runs client.ts pinned to clientCpu and returns its JSON line, plus its stderr. */
async function jsClient(root: string, driver: string, extra: string[], env: Record<string, string> = {}): Promise<{ out: Record<string, number>; err: string }> {
  const argv = ["taskset", "-c", String(clientCpu), BUN, `${root}bench/client-profile/client.ts`, "--port", String(port), ...extra];
  const proc = Bun.spawn(argv, { env: { ...process.env, RINGRPC_DRIVER: driver, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const line = out.trim().split("\n").pop() ?? "";
  if (proc.exitCode !== 0 || !line.startsWith("{")) throw new Error(`client.ts (${driver}) exited ${proc.exitCode}: ${err.trim().slice(-800)}`);
  return { out: JSON.parse(line) as Record<string, number>, err };
}

async function measured<T>(server: ServerProcess, run: () => Promise<T>): Promise<{ v: T; serverCpu: number }> {
  const c0 = server.cpuSeconds();
  const t0 = performance.now();
  const v = await run();
  return { v, serverCpu: (server.cpuSeconds() - c0) / ((performance.now() - t0) / 1000) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const server = await ServerProcess.start(
  ["taskset", "-c", String(serverCpu), BUN, `${ROOT}bench/server/server.ts`, "--port", String(port), "--workers", "1", "--driver", serverDriver],
  /^listening on /,
  15_000,
);
console.log(`# ${new Date().toISOString()} server: ${server.readyLine} (cpu ${serverCpu}); clients on cpu ${clientCpu}; Bun ${Bun.version}`);
console.log(`# server says: ${server.tail(3).replaceAll("\n", " | ")}`);
const rows: Row[] = [];
try {
  for (let rep = 0; rep < reps; rep++)
    for (const depth of depths) {
      const lg = await measured(server, () =>
        startLoadgen({ binary: LOADGEN, port, cpu: clientCpu, conns: 1, size: 64, depth, durationS: duration, warmupS: 0.3, prefix: [], mode: "rpc", method: "echo" }).report,
      );
      rows.push({ who: "loadgen", wake: null, depth, rps: lg.v.rps, clientCpu: lg.v.loadgen_cpu_pct / 100, serverCpu: lg.serverCpu });
      for (const d of drivers)
        for (const t of trees) {
          const js = await measured(server, () => jsClient(t.root, d, ["--depth", String(depth), "--duration", String(duration)]));
          rows.push({ who: `${t.label}-${d}`, wake: (js.v.out.wake as unknown as string | null) ?? null, depth, rps: js.v.out.rps!, clientCpu: js.v.out.cpu_pct! / 100, serverCpu: js.serverCpu });
        }
      const last = rows.slice(-1 - drivers.length * trees.length);
      console.log(`rep ${rep + 1} depth ${depth}: ${last.map((r) => `${r.who} ${Math.round(r.rps)}/s (cli ${Math.round(r.clientCpu * 100)}% srv ${Math.round(r.serverCpu * 100)}%${r.wake !== null && r.wake.endsWith("poll") ? " POLL" : ""})`).join(", ")}`);
    }
  console.log("\n| depth | who | calls/s (median) | x loadgen | client CPU | client µs CPU/call | server CPU | runs |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const depth of depths) {
    const lgMed = median(rows.filter((r) => r.depth === depth && r.who === "loadgen").map((r) => r.rps));
    for (const who of ["loadgen", ...drivers.flatMap((d) => trees.map((t) => `${t.label}-${d}`))]) {
      const rs = rows.filter((r) => r.depth === depth && r.who === who);
      const m = median(rs.map((r) => r.rps));
      console.log(
        `| ${depth} | ${who} | ${Math.round(m).toLocaleString("en-US")} | ${(m / lgMed).toFixed(2)} | ${Math.round(median(rs.map((r) => r.clientCpu)) * 100)}% | ${median(rs.map((r) => (r.clientCpu / r.rps) * 1e6)).toFixed(2)} | ${Math.round(median(rs.map((r) => r.serverCpu)) * 100)}% | ${rs.map((r) => Math.round(r.rps / 1000) + "k").join(" ")} |`,
      );
    }
  }
  if (allocs > 0) {
    console.log(`\n| client | driver | depth | heap bytes/call | collections | calls/s |`);
    console.log("|---|---|---|---|---|---|");
    for (const t of trees)
      for (const d of drivers)
        for (const depth of depths) {
          const { out, err } = await jsClient(t.root, d, ["--depth", String(depth), "--allocs", String(allocs)], { BUN_JSC_logGC: "1", BUN_JSC_useConcurrentGC: "0" });
          const a = allocatedBetweenMarkers(err);
          console.log(`| ${t.label} | ${d} | ${depth} | ${Math.round(a.bytes / allocs)} | ${a.collections} | ${Math.round(out.rps!).toLocaleString("en-US")} |`);
        }
  }
} finally {
  await server.stop();
}
