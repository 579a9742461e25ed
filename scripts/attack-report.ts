/**
 * `npm run attack-report -- [--runs N]`: runs the attack suite (test/attack)
 * N times (default 3) with RINGRPC_ATTACK_REPORT set, then prints one
 * markdown row per attack and driver: the well-behaved client's p99 quiet
 * and during the attack (median over runs), the worst during/quiet ratio,
 * the worst RSS growth against the budget, and the worst time to cut the
 * abuser off. The table bench/RESULTS.md records for the hardening issue;
 * run it on a quiet machine (the ratio is what the done-when judges).
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intFlag, parseArgs } from "../src/cli/args.ts";
import type { AttackMeasure } from "../test/attack/fixtures/attack-report.ts";

const args = parseArgs(process.argv.slice(2), { values: ["runs"], booleans: [] });
const runs = intFlag(args, "runs", 3, 1, 100);
const root = new URL("..", import.meta.url).pathname;
const file = join(tmpdir(), `ringrpc-attack-${process.pid}.jsonl`);
rmSync(file, { force: true });

let failedRuns = 0;
for (let i = 1; i <= runs; i++) {
  process.stderr.write(`attack suite, run ${i} of ${runs}\n`);
  const p = Bun.spawnSync([process.execPath, "test", "test/attack"], { cwd: root, env: { ...process.env, RINGRPC_ATTACK_REPORT: file }, stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) {
    failedRuns++;
    process.stderr.write(`run ${i} failed:\n${p.stderr.toString().split("\n").filter((l) => l.includes("(fail)")).join("\n")}\n`);
  }
}

const records: AttackMeasure[] = readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
rmSync(file, { force: true });
const groups = new Map<string, AttackMeasure[]>();
for (const r of records) {
  const key = `${r.attack}\u0000${r.driver}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
const values = (rs: AttackMeasure[], k: keyof AttackMeasure) => rs.map((r) => r[k]).filter((v): v is number => typeof v === "number");

console.log(`attack suite x ${runs} (${failedRuns} failed runs), ${new Date().toISOString()}\n`);
console.log("| attack | driver | runs | quiet p99 ms (median) | during p99 ms (median, max) | worst during/quiet | worst RSS growth / budget MiB | worst cut-off ms |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const rs of groups.values()) {
  const r0 = rs[0]!;
  const ratios = rs.filter((r) => r.quietP99Ms !== undefined && r.duringP99Ms !== undefined).map((r) => r.duringP99Ms! / r.quietP99Ms!);
  const growth = values(rs, "growthMiB");
  const during = values(rs, "duringP99Ms");
  console.log(
    `| ${r0.attack} | ${r0.driver} | ${rs.length} | ${fmt(median(values(rs, "quietP99Ms")))} | ${fmt(median(during))}, ${fmt(Math.max(...during))} | ${ratios.length === 0 ? "—" : `${fmt(Math.max(...ratios), 1)}x`} | ${growth.length === 0 ? "—" : `${Math.max(...growth)} / ${r0.budgetMiB ?? "—"}`} | ${fmt(Math.max(...values(rs, "cutOffMs")), 0)} |`,
  );
}
process.exit(failedRuns === 0 ? 0 : 1);
