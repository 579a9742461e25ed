/**
 * The one-command RPC benchmark (`bun run bench`, `ringrpc bench`): builds the
 * load generator and the contenders, then runs every contender serving
 * bench.v1.Bench over docs/PROTOCOL.md under the same native load generator,
 * server pinned to one CPU and generator to another, contenders interleaved
 * over R repetitions. Prints live progress, a markdown table per depth, and
 * writes bench/results/rpc-<timestamp>.json (every run, machine facts) and
 * bench/results/rpc-<timestamp>.svg (the chart). The extra measurements
 * (--cpu-at-rate, --idle-conns, --scaling, --codec, --all) live in
 * bench/matrix/. Options: bench/README.md or --help.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { buildLoadgen, PROJECT_ROOT } from "./echo/contenders.ts";
import { machineFacts } from "./echo/machine_facts.ts";
import { NOISY_OTHER_PCT, SATURATED_PCT } from "./echo/run_record.ts";
import { runCodec, type CodecResult } from "./matrix/codec_section.ts";
import { cpuAtRateTable, cpuAtRateWorkload, runCpuAtRate } from "./matrix/cpu_at_rate.ts";
import { buildIdleHolder, failedIdle, idleTable, measureIdle, type IdleResult } from "./matrix/idle_memory.ts";
import { FLAG_LEGEND, markdownMatrixTable, summarizeRows, type RatioBaseline } from "./matrix/matrix_table.ts";
import { parseOptions, USAGE, UsageError, type MatrixOptions } from "./matrix/options.ts";
import { progressLine } from "./matrix/progress_line.ts";
import { BUN_BASELINE, RPC_CONTENDERS, TOKIO_BASELINES, type RpcContender } from "./matrix/rpc_contenders.ts";
import type { RpcRunRecord, Workload } from "./matrix/rpc_run_record.ts";
import { errorText, type RunSetup } from "./matrix/run_once.ts";
import { runInterleaved } from "./matrix/interleaved_runs.ts";
import { runScaling, scalingCaption, scalingTable, scalingWorkload } from "./matrix/scaling.ts";
import { matrixSvg } from "./matrix/svg_chart.ts";

const BASELINES: readonly RatioBaseline[] = [{ candidates: TOKIO_BASELINES }, { candidates: [BUN_BASELINE] }];

function options(): MatrixOptions {
  const argv = Bun.argv.slice(2);
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
  const o = options();
  const command = ["node_modules/.bin/bun", "bench/run.ts", ...Bun.argv.slice(2)].join(" ");
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
  const contenders = o.contenders.map((n) => RPC_CONTENDERS.find((c) => c.name === n) as RpcContender);
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
      const t = markdownMatrixTable(runs, d, names, BASELINES);
      tables[`depth ${d}`] = t;
      sections.push(`### depth ${d}${o.rate > 0 ? ` (cap; fixed rate ${o.rate} req/s: every server serves the same rate, compare server CPU and latency, not req/s)` : ""}\n\n${t}`);
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
  writeFileSync(`${stem}.json`, `${JSON.stringify({ machine: facts, config, runs, idle, codec, tables }, null, 2)}\n`);
  let svgNote = "";
  if (o.matrix) {
    const groups = o.depths.map((d) => ({ label: `depth ${d}`, rows: summarizeRows(runs.filter((r) => r.section === "matrix"), d, names) }));
    const subtitle = `${workloadText(o)} · ${facts.date.slice(0, 16)}Z · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus}`;
    writeFileSync(`${stem}.svg`, matrixSvg("ringrpc: bench.v1.Bench, one server core", subtitle, groups, names));
    svgNote = `\nchart:   ${stem}.svg`;
  }

  console.log(`\n## RPC benchmark: ${workloadText(o)} (medians)\n`);
  console.log(`${facts.date} · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus} · server CPU ${o.serverCpu}, loadgen CPU ${o.loadgenCpu}`);
  console.log(`command: ${command}\n`);
  console.log(sections.join("\n\n"));
  console.log(`\n${FLAG_LEGEND}`);
  console.log(`results: ${stem}.json${svgNote}`);
  const anyOk = runs.some((r) => r.ok) || idle.some((r) => r.ready > 0) || codec?.ok === true;
  if (!anyOk) console.error("bench: no run succeeded; see the notes column for why");
  return anyOk ? 0 : 1;
}

process.exit(await main());
