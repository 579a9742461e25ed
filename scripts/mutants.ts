/**
 * Mutation smoke (`npm run test:mutants`): injects deliberate faults into a
 * scratch copy of the committed tree, one at a time, runs the tests that
 * should notice, and fails unless every fault turns them red. It proves the
 * suite can fail where it matters (a late wake-up on the uring server and
 * client paths, a dropped frame, an off-by-one in a limit, ...), not only
 * that it passes. Touches nothing in the working tree; the scratch copy is a
 * detached `git worktree` of HEAD, removed at the end.
 *   bun scripts/mutants.ts [--only NAME] [--keep]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Mutant {
  name: string;
  file: string;
  /** Exact text to replace (must occur exactly once). */
  from: string;
  to: string;
  /** Test files that must fail with the fault in place. */
  tests: string[];
}

const LATENCY = ["test/latency/low-load.test.ts", "test/latency/idle-wake.test.ts"];

const mutants: Mutant[] = [
  {
    name: "uring: 16 ms before every idle wake-up of the loop",
    file: "src/runtime/uring/loop.ts",
    from: "  private wakeUp(): void {\n    this.ring.sleeping = false;",
    to: "  private wakeUp(): void {\n    if (this.wake !== null) { const w = this.wake; this.wake = null; setTimeout(() => { this.wake = w; this.wakeUp(); }, 16); return; }\n    this.ring.sleeping = false;",
    tests: LATENCY,
  },
  {
    name: "uring: 16 ms before the eventfd wake-up only (the poll mode would hide it from p99)",
    file: "src/runtime/uring/loop.ts",
    from: "    if (this.wake !== null) this.counters.eventfdWakes++;\n    this.wakeUp();",
    to: "    if (this.wake !== null) this.counters.eventfdWakes++;\n    setTimeout(() => this.wakeUp(), 16);",
    tests: LATENCY,
  },
  {
    name: "uring: the eventfd is never armed before sleeping",
    file: "src/runtime/uring/loop.ts",
    from: "      this.ring.setEventfd(true);",
    to: "      this.ring.setEventfd(false);",
    tests: LATENCY,
  },
  {
    name: "uring: DEFER_TASKRUN ring by default (the self-test must not be the only thing that notices)",
    file: "src/runtime/uring/ring-mode.ts",
    from: 'if (v === "" || v === "coop") return "coop";',
    to: 'if (v === "" || v === "coop") return "defer";',
    tests: ["test/latency/low-load.test.ts"],
  },
  {
    name: "uring: the wake self-test never reports late",
    file: "src/runtime/uring/wake-check.ts",
    from: 'verdict: late > LATE_LIMIT ? "late" : "ok",',
    to: 'verdict: "ok",',
    tests: ["test/latency/wake-fault.test.ts"],
  },
  {
    name: "uring: the wake guard never counts a late probe",
    file: "src/runtime/uring/wake-guard.ts",
    from: "    if (lateMs <= LATE_MS) return;",
    to: "    if (lateMs <= LATE_MS * 1000) return;",
    tests: ["test/latency/wake-fault.test.ts"],
  },
  {
    name: "rpc: every 500th complete frame of a chunk is dropped",
    file: "src/rpc/frame-decoder.ts",
    from: "      if (end <= n) {\n        onFrame(chunk, start, end);",
    to: "      if (end <= n) {\n        if (((globalThis as any).__drop = ((globalThis as any).__drop ?? 0) + 1) % 500 !== 0) onFrame(chunk, start, end);",
    tests: ["test/rpc/calls.test.ts", "test/latency/low-load.test.ts"],
  },
  {
    name: "rpc: frame size limit off by one (a frame of exactly the limit is refused)",
    file: "src/rpc/frame-decoder.ts",
    from: "    if (len > this.maxFrameBytes) {",
    to: "    if (len >= this.maxFrameBytes) {",
    tests: ["test/rpc/framing.test.ts", "test/rpc/limits.test.ts"],
  },
  {
    name: "rpc: concurrent-call limit off by one (one call more than the limit is admitted)",
    file: "src/rpc/server-connection.ts",
    from: "    return this.calls.size >= this.cfg.limits.maxConcurrentCalls || this.owner.openCalls",
    to: "    return this.calls.size > this.cfg.limits.maxConcurrentCalls || this.owner.openCalls",
    tests: ["test/rpc/limits.test.ts"],
  },
  {
    name: "rpc: the short path of a plain unary REQUEST ignores the memory budget's pause",
    file: "src/rpc/server-connection.ts",
    from: "return !this.goAwaySent && !this.budgetPaused && this.metrics === null",
    to: "return !this.goAwaySent && this.metrics === null",
    tests: ["test/rpc/plain-admission.test.ts"],
  },
  {
    name: "rpc: REQUESTs already read are answered while the output is over its high-water mark (no hold)",
    file: "src/rpc/server-connection.ts",
    from: "    if (this.out.overHighWater) this.core.holdFrames();",
    to: "    if (this.out.overHighWater && false) this.core.holdFrames();",
    tests: ["test/attack/amplification.test.ts"],
  },
  {
    name: "rpc: the memory budget never evicts its top consumer",
    file: "src/rpc/memory-budget.ts",
    from: "    while (this.used > this.hold) {",
    to: "    while (false && this.used > this.hold) {",
    tests: ["test/rpc/memory-budget.test.ts", "test/attack/memory-budget.test.ts"],
  },
  {
    name: "rpc: epoll's read garbage is never collected while the budget is loaded",
    file: "src/rpc/memory-budget.ts",
    from: "    if (this.readGarbage > step && this.used > step) {",
    to: "    if (false && this.readGarbage > step && this.used > step) {",
    tests: ["test/rpc/memory-budget.test.ts"],
  },
  {
    name: "client: unary calls are encoded whatever the output's backlog",
    file: "src/rpc/client-connection.ts",
    from: "    if (this.calls.size >= this.peer.maxConcurrentCalls || this.out.overHighWater) {",
    to: "    if (this.calls.size >= this.peer.maxConcurrentCalls) {",
    tests: ["test/rpc/backpressure.test.ts"],
  },
  {
    name: "uring: timers round down instead of up",
    file: "src/runtime/uring/ops/timers.ts",
    from: "  return Math.min(Math.ceil(ms), 0x7fffffff);",
    to: "  return Math.min(Math.floor(ms), 0x7fffffff);",
    tests: ["test/runtime/uring-timers.test.ts", "test/rpc/deadlines-cancel.test.ts"],
  },  {
    name: "client: a call above a GOAWAY's lastId fails instead of going elsewhere",
    file: "src/rpc/client-connection.ts",
    from: "if (call.id > lastId) call.refuse(",
    to: "if (call.id > lastId) call.fail(",
    tests: ["test/rpc/retry.test.ts"],
  },
  {
    name: "client: a failed connection does not make the resolver look again",
    file: "src/rpc/client.ts",
    from: "    if (!this.closed && this.resolverState !== \"idle\" && this.resolver.refresh()) this.refreshing = true;",
    to: "    if (!this.closed && this.resolverState === \"late\" && this.resolver.refresh()) this.refreshing = true;",
    tests: ["test/rpc/discovery.test.ts"],
  },
  {
    name: "client: outlier detection ejects one call late",
    file: "src/rpc/outlier.ts",
    from: "if (++s.consecutive >= this.threshold && !s.ejected)",
    to: "if (++s.consecutive > this.threshold && !s.ejected)",
    tests: ["test/rpc/outlier.test.ts"],
  },
  {
    name: "client: the retry budget never runs out",
    file: "src/rpc/retry.ts",
    from: "    if (this.tokens < 1) return false;",
    to: "    if (this.tokens < -1e9) return false;",
    tests: ["test/rpc/retry.test.ts"],
  },
  {
    name: "client: a NOT_SERVING connection still takes calls",
    file: "src/rpc/backend.ts",
    from: "    return c !== null && c.usable && this.serving && !this.backend.outlier.ejected;",
    to: "    return c !== null && c.usable && !this.backend.outlier.ejected;",
    tests: ["test/rpc/health-balancing.test.ts"],
  },
  {
    name: "uring: provided buffers never grow past bufInitial",
    file: "src/runtime/uring/core.ts",
    from: "    if (this.ring.growBufs(had * 2) > had) this.bufsView = new Uint8Array(this.ring.bufs);",
    to: "    if (this.ring.growBufs(had) > had) this.bufsView = new Uint8Array(this.ring.bufs);",
    tests: ["test/runtime/uring-stream.test.ts"],
  },
  {
    name: "uring: a chunk of an incremental buffer is read from the buffer's start",
    file: "src/runtime/uring/ops/stream.ts",
    from: "      const start = bid * core.bufSize + bufOff;",
    to: "      const start = bid * core.bufSize;",
    tests: ["test/runtime/uring-stream.test.ts"],
  },
  {
    name: "rpc: the plain REQUEST fast path does not compare the last word of the bytes it remembered",
    file: "src/rpc/byte-run.ts",
    from: "    return r.wordAt(start + n - 4) === w[last];",
    to: "    return true;",
    tests: ["test/rpc/plain-admission.test.ts", "test/rpc/byte-run.test.ts"],
  },
  {
    name: "rpc: the REQUEST shortcut does not check that the id grows",
    file: "src/rpc/server-connection.ts",
    from: "    if (id <= this.lastRequestId || !prefix.startsAt(r, p)",
    to: "    if (!prefix.startsAt(r, p)",
    tests: ["test/rpc/plain-admission.test.ts"],
  },
  {
    name: "uring: the idle poll never polls",
    file: "src/runtime/uring/loop.ts",
    from: "      if (this.idlePoll !== null && this.pollIdle(this.idlePoll)) {",
    to: "      if (this.idlePoll !== null && false) {",
    tests: ["test/runtime/uring-idle-poll.test.ts"],
  },
];

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const keep = args.includes("--keep");
const bun = process.execPath;

function run(cmd: string[], cwd: string, timeoutMs: number): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, CI: "true" } });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

const scratch = mkdtempSync(join(tmpdir(), "ringrpc-mutants-"));
const tree = join(scratch, "tree");
let failures = 0;
try {
  const add = run(["git", "worktree", "add", "--detach", tree, "HEAD"], root, 60_000);
  if (add.code !== 0) throw new Error(`git worktree add failed: ${add.out}`);
  symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
  for (const dir of ["native", "bench/loadgen"]) {
    const m = run(["make", "-s", "-C", dir], tree, 300_000);
    if (m.code !== 0) throw new Error(`make -C ${dir} failed: ${m.out}`);
  }
  const selected = mutants.filter((m) => only === undefined || m.name.includes(only));
  if (selected.length === 0) throw new Error(`no mutant matches "${only}"`);
  // The unmutated tree must pass the same tests, or a red result proves nothing.
  const allTests = [...new Set(selected.flatMap((m) => m.tests))];
  const clean = run([bun, "test", ...allTests], tree, 600_000);
  if (clean.code !== 0) throw new Error(`the unmutated tree fails ${allTests.join(" ")}:\n${clean.out.slice(-3000)}`);
  console.log(`baseline: ${allTests.length} test files pass without faults`);
  for (const m of selected) {
    const path = join(tree, m.file);
    const original = readFileSync(path, "utf8");
    const count = original.split(m.from).length - 1;
    if (count !== 1) {
      console.log(`ERROR  ${m.name}: anchor found ${count} times in ${m.file} (update scripts/mutants.ts)`);
      failures++;
      continue;
    }
    writeFileSync(path, original.replace(m.from, m.to));
    const t0 = performance.now();
    const r = run([bun, "test", ...m.tests], tree, 600_000);
    writeFileSync(path, original);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const failed = [...r.out.matchAll(/^\(fail\) (.*)$/gm)].map((x) => x[1]!);
    if (r.code === 0) {
      failures++;
      console.log(`SURVIVED  ${m.name} (${secs} s): ${m.tests.join(" ")} still pass`);
    } else {
      console.log(`KILLED    ${m.name} (${secs} s): ${failed.length} failing${failed.length === 0 ? ` (no (fail) line: exit ${r.code})` : ""}`);
      for (const f of failed.slice(0, 6)) console.log(`            ${f}`);
    }
  }
} finally {
  if (!keep) {
    run(["git", "worktree", "remove", "--force", tree], root, 60_000);
    rmSync(scratch, { recursive: true, force: true });
  } else {
    console.log(`scratch tree kept at ${tree}`);
  }
}
console.log(failures === 0 ? "every mutant was killed" : `${failures} mutant(s) survived or could not be applied`);
process.exit(failures === 0 ? 0 : 1);
