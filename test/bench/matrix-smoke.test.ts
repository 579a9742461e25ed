/**
 * Smoke run of the RPC benchmark matrix (bench/run.ts --quick, plus a small
 * --idle-conns pass): proves the matrix builds, runs every contender that can
 * run here end to end over docs/PROTOCOL.md, and writes its JSON record and
 * SVG chart. Asserts that every run that started completed without errors and
 * served requests, never a speed.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { chooseDriver } from "../../src/runtime/select.ts";

const root = new URL("../..", import.meta.url).pathname;
const IDLE_CONNS = 200;

function uringWorks(): boolean {
  try {
    return chooseDriver("auto").driver === "uring";
  } catch {
    return false;
  }
}

function runnable(): string[] {
  const names = ["ringrpc-epoll"];
  if (uringWorks()) names.unshift("ringrpc-uring");
  if (existsSync(`${root}bench/tokio/target/release/rpc_server`)) names.push("tokio", "tokio-ct");
  if (existsSync(`${root}bench/peers/bun_listen_rpc.ts`)) names.push("bun-listen");
  return names;
}

interface Run {
  section: string;
  contender: string;
  depth: number;
  serverReadyLine: string | null;
  ok: boolean;
  error: string | null;
  rps: number;
  loadgenErrors: number;
}
interface Idle {
  contender: string;
  ready: number;
  requested: number;
  error: string | null;
}

test("bench/run.ts --quick runs every contender that can run here and writes JSON + SVG", async () => {
  const names = runnable();
  const proc = Bun.spawn([process.execPath, "bench/run.ts", "--quick", "--contenders", names.join(","), "--idle-conns", String(IDLE_CONNS)], {
    cwd: root, stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(`${code}\n${err}`).toStartWith("0\n");
  for (const n of names) expect(out).toContain(`| ${n} |`);

  const json = /^results: (\S+\.json)$/m.exec(out)?.[1];
  const svg = /^chart: +(\S+\.svg)$/m.exec(out)?.[1];
  expect(json).toBeDefined();
  expect(svg).toBeDefined();
  const record = JSON.parse(readFileSync(json as string, "utf8")) as { machine: { kernel: string; bun: string; cpuModel: string; command: string }; runs: Run[]; idle: Idle[] };
  expect(record.machine.command).toContain("bench/run.ts --quick");
  expect(record.machine.bun.length).toBeGreaterThan(0);

  const started = record.runs.filter((r) => r.serverReadyLine !== null);
  for (const r of started) {
    expect({ contender: r.contender, depth: r.depth, error: r.error, loadgenErrors: r.loadgenErrors }).toEqual({ contender: r.contender, depth: r.depth, error: null, loadgenErrors: 0 });
    expect(r.rps).toBeGreaterThan(0);
  }
  // ringrpc's own fallback driver runs everywhere: it must have run at both quick depths.
  expect(started.filter((r) => r.contender === "ringrpc-epoll" && r.section === "matrix").map((r) => r.depth).sort((a, b) => a - b)).toEqual([1, 32]);

  const epollIdle = record.idle.find((r) => r.contender === "ringrpc-epoll");
  expect(epollIdle).toMatchObject({ ready: IDLE_CONNS, requested: IDLE_CONNS, error: null });

  const chart = readFileSync(svg as string, "utf8");
  expect(chart).toStartWith("<svg ");
  expect(chart.trimEnd()).toEndWith("</svg>");
  for (const n of names) expect(chart).toContain(`>${n}</text>`);
}, 120_000);
