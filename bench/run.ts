/**
 * The one-command RPC benchmark (`bun run bench`, `ringrpc bench`): builds the
 * load generator and the contenders, then runs every contender serving
 * bench.v1.Bench over docs/PROTOCOL.md under the same native load generator,
 * server pinned to one CPU and generator to another, contenders interleaved
 * over R repetitions. Prints live progress, a markdown table per depth, and
 * writes bench/results/rpc-<timestamp>.json (every run, machine facts) and
 * bench/results/rpc-<timestamp>.svg (the chart). Then the 1-connection
 * section: every server at depth 1, and ringrpc's JS client on each driver
 * next to the load generator (rpc-<timestamp>-latency.svg). A contender whose
 * depth-1 p50 is more than 10x the best is STALLED: loud lines at the end and
 * exit code 3. The extra measurements (--cpu-at-rate, --idle-conns,
 * --scaling, --codec, --all) live in bench/matrix/. Options: bench/README.md
 * or --help.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { buildLoadgen, PROJECT_ROOT } from "./echo/contenders.ts";
import { machineFacts } from "./echo/machine-facts.ts";
import { NOISY_OTHER_PCT, SATURATED_PCT } from "./echo/run-record.ts";
import { runCodec, type CodecResult } from "./matrix/codec-section.ts";
import { cpuAtRateTable, cpuAtRateWorkload, runCpuAtRate } from "./matrix/cpu-at-rate.ts";
import { buildIdleHolder, failedIdle, idleTable, measureIdle, type IdleResult } from "./matrix/idle-memory.ts";
import { latencySvg } from "./matrix/latency-chart.ts";
import { jsTargets, runLatency } from "./matrix/latency-section.ts";
import { latencyRows, latencyStalls, latencyTable } from "./matrix/latency-table.ts";
import { JS_CLIENTS } from "./matrix/load-clients.ts";
import { FLAG_LEGEND, markdownMatrixTable, matrixStalls, rowStalls, summarizeRows, type RatioBaseline } from "./matrix/matrix-table.ts";
import { npmSwallowedFlags } from "./matrix/npm-flags.ts";
import { latencyWindow, parseOptions, USAGE, UsageError, type MatrixOptions } from "./matrix/options.ts";
import { stallLine, type StallFinding } from "./matrix/stall-flag.ts";
import { progressLine } from "./matrix/progress-line.ts";
import { BUN_BASELINE, ECHO_ONLY, RPC_CONTENDERS, TOKIO_BASELINES, type RpcContender } from "./matrix/rpc-contenders.ts";
import type { RpcRunRecord, Workload } from "./matrix/rpc-run-record.ts";
import { errorText, type RunSetup } from "./matrix/run-once.ts";
import { runInterleaved } from "./matrix/interleaved-runs.ts";
import { runScaling, scalingCaption, scalingTable, scalingWorkload } from "./matrix/scaling.ts";
import { matrixSvg } from "./matrix/svg-chart.ts";

const BASELINES: readonly RatioBaseline[] = [{ candidates: TOKIO_BASELINES }, { candidates: [BUN_BASELINE] }];
/** Exit code when a contender is STALLED (everything is still printed and written). */
const EXIT_STALLED = 3;

/** The run's arguments: flags npm swallowed (`npm run bench --quick`, npm-flags.ts), then the script's own. */
function benchArgv(): string[] {
  const fromNpm = npmSwallowedFlags(process.env);
  for (const note of fromNpm.notes) console.error(note);
  if (fromNpm.problems.length > 0) {
    for (const p of fromNpm.problems) console.error(`bench: ${p}`);
    process.exit(2);
  }
  return [...fromNpm.argv, ...Bun.argv.slice(2)];
}

function options(argv: string[]): MatrixOptions {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    return parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
}

function workloadText(o: MatrixOptions): string {
  const payload = o.method === "echo" || o.method === "text" ? ` ${o.size} B` : "";
  const load = o.rate > 0 ? `fixed rate ${o.rate} req/s` : "closed loop";
  return `unary ${o.method}${payload}, ${o.conns} connections, ${load}, ${o.reps} x ${o.durationS} s (+${o.warmupS} s warm-up)`;
}

function prepareAll(contenders: readonly RpcContender[]): Map<string, string> {
  const broken = new Map<string, string>();
  for (const c of contenders) {
    try {
      c.prepare();
    } catch (e) {
      broken.set(c.name, `build failed: ${errorText(e)}`);
      console.log(`${c.name}: ${errorText(e).split("\n")[0]} (reported as failed)`);
    }
  }
  return broken;
}

async function main(): Promise<number> {
  const argv = benchArgv();
  const o = options(argv);
  const command = ["node_modules/.bin/bun", "bench/run.ts", ...argv].join(" ");
  const facts = machineFacts(`${PROJECT_ROOT}node_modules/.bin/bun`, command);
  console.log(`# RPC benchmark ${facts.date}\nkernel ${facts.kernel}, Bun ${facts.bun}, ${facts.cpuModel} x${facts.cpus}${facts.rustc ? `, ${facts.rustc}` : ""}`);
  console.log(`${workloadText(o)}; server on CPU ${o.serverCpu}, load generator on CPU ${o.loadgenCpu}`);

  let loadgen: string;
  try {
    loadgen = buildLoadgen();
  } catch (e) {
    console.error(`bench: ${errorText(e)}`);
    return 1;
  }
  // The floor serves echo only.
  const contenders = o.contenders.filter((n) => o.method === "echo" || !ECHO_ONLY.has(n)).map((n) => RPC_CONTENDERS.find((c) => c.name === n) as RpcContender);
  const broken = prepareAll(contenders);
  const setup: RunSetup = { loadgen, serverCpu: o.serverCpu, loadgenCpu: o.loadgenCpu, durationS: o.durationS, warmupS: o.warmupS };
  const names = contenders.map((c) => c.name);
  const show = (reps: number) => (r: RpcRunRecord) => console.log(progressLine(r, reps));

  const runs: RpcRunRecord[] = [];
  const sections: string[] = [];
  const tables: Record<string, string> = {};
  if (o.matrix) {
    const workloads: Workload[] = o.depths.map((depth) => ({ section: "matrix", method: o.method, size: o.size, conns: o.conns, depth, rate: o.rate }));
    runs.push(...(await runInterleaved(setup, contenders, workloads, o.reps, broken, show(o.reps))));
    for (const d of o.depths) {
      const t = markdownMatrixTable(runs.filter((r) => r.section === "matrix"), d, names, BASELINES);
      tables[`depth ${d}`] = t;
      sections.push(`### depth ${d}${o.rate > 0 ? ` (cap; fixed rate ${o.rate} req/s: every server serves the same rate, compare server CPU and latency, not req/s)` : ""}\n\n${t}`);
    }
  }
  if (o.latency) {
    const window = latencyWindow(o);
    const plan = { method: o.method, size: o.size, jsDepths: o.jsDepths, jsClients: o.jsClient ? JS_CLIENTS : [] };
    const mine = await runLatency({ ...setup, ...window }, contenders, plan, o.reps, broken, show(o.reps));
    runs.push(...mine);
    const jsNote = o.jsClient
      ? `; the JS client (bench/js-client: createChannel + BenchClient, RINGRPC_DRIVER=uring|epoll, pinned to CPU ${o.loadgenCpu} like the load generator) calls ${jsTargets(names).join(", ")}`
      : "";
    const how = `unary ${o.method}, 1 connection, closed loop, ${o.reps} x ${window.durationS} s (+${window.warmupS} s warm-up), one server process per contender and repetition for all its clients${jsNote}`;
    for (const d of [...new Set([1, ...(o.jsClient ? o.jsDepths : [])])].sort((a, b) => a - b)) {
      const t = latencyTable(mine, d);
      tables[`1 connection depth ${d}`] = t;
      const title = d === 1 ? "### 1 connection, depth 1: latency of every server (bench/loadgen) and of the JS client" : `### 1 connection, depth ${d}: the JS client next to bench/loadgen on the same server`;
      sections.push(`${title}\n\n${how}\n\n${t}`);
    }
  }
  if (o.cpuAtRate > 0) {
    const w = cpuAtRateWorkload(o.cpuAtRate, o.method, o.size, o.conns);
    const mine = await runCpuAtRate(setup, contenders, w, o.reps, broken, show(o.reps));
    runs.push(...mine);
    const t = cpuAtRateTable(mine, w, names);
    tables["cpu-at-rate"] = t;
    sections.push(`### server CPU at a fixed ${o.cpuAtRate} req/s (in-flight cap ${w.depth} per connection)\n\n${t}`);
  }
  let idle: IdleResult[] = [];
  if (o.idleConns > 0) {
    try {
      const holder = buildIdleHolder();
      for (const c of contenders) {
        const why = broken.get(c.name);
        const r = why !== undefined ? failedIdle(c.name, o.idleConns, why) : await measureIdle(holder, c, o.serverCpu, o.loadgenCpu, o.idleConns);
        idle.push(r);
        console.log(`[idle] ${c.name.padEnd(16)} ${r.ready}/${r.requested} held  ${r.kibPerConn === null ? "-" : r.kibPerConn.toFixed(2)} KiB/conn${r.error ? `  ${r.error.split("\n")[0]}` : ""}`);
      }
    } catch (e) {
      idle = contenders.map((c) => failedIdle(c.name, o.idleConns, errorText(e)));
    }
    const t = idleTable(idle);
    tables["idle"] = t;
    sections.push(`### memory per idle connection (${o.idleConns} connections after HELLO; RSS growth / connections held)\n\n${t}`);
  }
  if (o.scaling) {
    const mine = await runScaling(setup, scalingWorkload(o.method, o.size, o.conns), o.reps, show(o.reps));
    runs.push(...mine);
    const t = scalingTable(mine);
    tables["scaling"] = t;
    sections.push(`### scaling: ringrpc-uring, 1 vs 2 workers, depth 32\n\n${t}\n\n${scalingCaption(o.loadgenCpu)}`);
  }
  let codec: CodecResult | null = null;
  if (o.codec) {
    codec = await runCodec(o.quick);
    console.log(`[codec] ${codec.ok ? "done" : `FAILED ${codec.error ?? ""}`}`);
    sections.push(`### codec (bench/codec/run.ts)\n\n${codec.ok ? codec.output : `failed: ${codec.error ?? "unknown"}`}`);
  }

  mkdirSync(`${PROJECT_ROOT}bench/results`, { recursive: true });
  const stem = `${PROJECT_ROOT}bench/results/rpc-${facts.date.replace(/[:.]/g, "-")}`;
  const config = { ...o, contenders: names, tokioBaselines: TOKIO_BASELINES, bunBaseline: BUN_BASELINE, saturatedPct: SATURATED_PCT, noisyOtherPct: NOISY_OTHER_PCT };
  const stalls: StallFinding[] = [
    ...(o.matrix ? matrixStalls(runs, names, o.conns) : []),
    ...(o.latency ? latencyStalls(latencyRows(runs, 1)) : []),
  ];
  const stalled = stalls.map(stallLine);
  writeFileSync(`${stem}.json`, `${JSON.stringify({ machine: facts, config, runs, idle, codec, tables, stalled }, null, 2)}\n`);
  let svgNote = "";
  if (o.matrix) {
    const groups = o.depths.map((d) => {
      const rows = summarizeRows(runs.filter((r) => r.section === "matrix"), d, names);
      return { label: `depth ${d}`, rows, stalled: new Set(rowStalls(rows).verdicts.filter((v) => v.stalled).map((v) => v.name)) };
    });
    const subtitle = `${workloadText(o)} · ${facts.date.slice(0, 16)}Z · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus}`;
    writeFileSync(`${stem}.svg`, matrixSvg("ringrpc: bench.v1.Bench, one server core", subtitle, groups, names));
    svgNote = `\nchart:   ${stem}.svg`;
  }
  if (o.latency) {
    const subtitle = `unary ${o.method} · ${facts.date.slice(0, 16)}Z · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus}`;
    writeFileSync(`${stem}-latency.svg`, latencySvg(subtitle, runs, names));
    svgNote += `\nchart:   ${stem}-latency.svg`;
  }

  console.log(`\n## RPC benchmark: ${workloadText(o)} (medians)\n`);
  console.log(`${facts.date} · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus} · server CPU ${o.serverCpu}, loadgen CPU ${o.loadgenCpu}`);
  console.log(`command: ${command}\n`);
  console.log(sections.join("\n\n"));
  console.log(`\n${FLAG_LEGEND}`);
  console.log(`results: ${stem}.json${svgNote}`);
  const anyOk = runs.some((r) => r.ok) || idle.some((r) => r.ready > 0) || codec?.ok === true;
  if (!anyOk) console.error("bench: no run succeeded; see the notes column for why");
  if (stalled.length > 0) {
    const loud = ["", "!".repeat(78), ...stalled, `bench: exit ${EXIT_STALLED}: ${stalled.length} STALLED row(s); the tables above mark them`, "!".repeat(78)].join("\n");
    console.log(loud);
    console.error(loud);
    return EXIT_STALLED;
  }
  return anyOk ? 0 : 1;
}

process.exit(await main());
