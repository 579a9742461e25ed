/**
 * The soak run (`npm run soak`): the kv server in the supervised mode under
 * mixed load for --minutes N, with one server process killed (SIGKILL) every
 * --crash-every seconds. The load, from this process: unary puts and gets,
 * watch streams cancelled after a random while, uploads (client streams),
 * chats (bidi), and channels replaced every few seconds (reconnects). Every
 * --sample-every seconds it records the server's RSS and open file
 * descriptors (the supervisor and each child, summed) and the calls done and
 * failed. It prints a markdown table and exits 1 when the server's highest
 * RSS or fd count in the last quarter of the run is more than 25% (plus a
 * small slack) above the highest of the first quarter after warm-up, or when
 * a sampling window saw no successful call.
 *   bun scripts/soak.ts [--minutes 10] [--crash-every 60] [--driver auto|uring|epoll] [--processes 2] [--sample-every 10]
 */
import { readdirSync, readFileSync } from "node:fs";
import { KeyValueClient } from "../examples/kv/gen/kv.ts";
import { intFlag, parseArgs } from "../src/cli/args.ts";
import { type Channel, createChannel } from "../src/rpc/client.ts";
import { createRuntimeFor } from "../src/runtime/select.ts";
import { startServer } from "../test/helpers/server-process.ts";

const args = parseArgs(process.argv.slice(2), { values: ["minutes", "crash-every", "driver", "processes", "sample-every"], booleans: [] });
const minutes = Number(args.flags.get("minutes") ?? "10");
const crashEveryS = intFlag(args, "crash-every", 60, 0, 3600);
const processes = intFlag(args, "processes", 2, 1, 64);
const sampleEveryS = intFlag(args, "sample-every", 10, 1, 600);
const driver = args.flags.get("driver") ?? "auto";
const root = new URL("..", import.meta.url).pathname;
const text = new TextEncoder();

interface Sample {
  atS: number;
  rssMiB: number;
  fds: number;
  children: number;
  okCalls: number;
  failedCalls: number;
  crashes: number;
}

/** The pids of `pid`'s children (from /proc; empty if it is gone). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function rssKiB(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

const server = await startServer(`${root}examples/kv/server.ts`, ["--port", "0", "--workers", "1", "--processes", String(processes), "--driver", driver], { timeoutMs: 30_000 });
const supPid = server.proc.pid;
console.error(`soak: kv server on port ${server.port}, driver=${server.driver}, ${processes} processes x 1 worker, ${minutes} min, a SIGKILL every ${crashEveryS || "never"} s`);
const rt = await createRuntimeFor("epoll");
const endpoint = { host: "127.0.0.1", port: server.port };
let channel: Channel = createChannel(rt, { endpoints: [endpoint] });
let kv = new KeyValueClient(channel);
let ok = 0;
let failed = 0;
let crashes = 0;
let stop = false;
/** Failures by status code and message head, to print at the end. */
const failures = new Map<string, number>();
const count = (p: Promise<unknown>) =>
  p.then(
    () => void ok++,
    (e: { code?: string; message?: string }) => {
      // A key another process's store never saw is an answer, not a failure.
      if (e.code === "kv.v1.KeyNotFound") return void ok++;
      failed++;
      const k = `${e.code ?? "?"}: ${String(e.message).slice(0, 80)}`;
      failures.set(k, (failures.get(k) ?? 0) + 1);
    },
  );

async function unaryLoop(i: number): Promise<void> {
  for (let n = 0; !stop; n++) {
    const key = `soak:${i}:${n % 64}`;
    await count(n % 3 === 0 ? kv.put({ key, value: text.encode(`v${n}`), origin: 1 }) : kv.get({ key }));
  }
}

async function watchLoop(): Promise<void> {
  while (!stop) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 50 + Math.random() * 450);
    try {
      for await (const _ of kv.watch({ prefix: "soak:" }, { signal: ac.signal })) ok++;
    } catch {
      // cancelled (the common end) or the connection was lost in a crash
    }
    clearTimeout(timer);
  }
}

async function streamLoop(): Promise<void> {
  for (let n = 0; !stop; n++) {
    await count(kv.upload([{ entries: [{ key: `bulk:${n % 16}`, value: text.encode("x".repeat(256)) }] }, { entries: [{ key: "bulk:last", value: text.encode("y") }] }]));
    await count(
      (async () => {
        for await (const _ of kv.chat([{ from: "soak", text: `hi ${n}` }])) ok++;
      })(),
    );
  }
}

async function reconnectLoop(): Promise<void> {
  while (!stop) {
    await Bun.sleep(3000);
    const old = channel;
    channel = createChannel(rt, { endpoints: [endpoint] });
    kv = new KeyValueClient(channel);
    void old.close();
  }
}

async function crashLoop(): Promise<void> {
  if (crashEveryS === 0) return;
  while (!stop) {
    await Bun.sleep(crashEveryS * 1000);
    if (stop) return;
    const kids = childrenOf(supPid);
    if (kids.length === 0) continue;
    const victim = kids[Math.floor(Math.random() * kids.length)]!;
    try {
      process.kill(victim, "SIGKILL");
      crashes++;
    } catch {
      // already gone
    }
  }
}

const samples: Sample[] = [];
const started = performance.now();
const load = [...Array.from({ length: 8 }, (_, i) => unaryLoop(i)), watchLoop(), watchLoop(), streamLoop(), reconnectLoop(), crashLoop()];
let lastOk = 0;
let lastFailed = 0;
const endAt = started + minutes * 60_000;
while (performance.now() + sampleEveryS * 1000 <= endAt + 1) {
  await Bun.sleep(sampleEveryS * 1000);
  const pids = [supPid, ...childrenOf(supPid)];
  samples.push({
    atS: Math.round((performance.now() - started) / 1000),
    rssMiB: Math.round(pids.reduce((s, p) => s + rssKiB(p), 0) / 1024),
    fds: pids.reduce((s, p) => s + fdCount(p), 0),
    children: pids.length - 1,
    okCalls: ok - lastOk,
    failedCalls: failed - lastFailed,
    crashes,
  });
  lastOk = ok;
  lastFailed = failed;
  const s = samples.at(-1)!;
  console.error(`soak: ${s.atS}s rss=${s.rssMiB}MiB fds=${s.fds} children=${s.children} ok=${s.okCalls} failed=${s.failedCalls} crashes=${s.crashes}`);
}
stop = true;
await Promise.race([Promise.allSettled(load), Bun.sleep(5000)]);
await channel.close();
await rt.close();
await server.stop();

console.log(`| at s | server RSS MiB | server fds | children | calls ok | calls failed | crashes so far |`);
console.log(`|---:|---:|---:|---:|---:|---:|---:|`);
for (const s of samples) console.log(`| ${s.atS} | ${s.rssMiB} | ${s.fds} | ${s.children} | ${s.okCalls} | ${s.failedCalls} | ${s.crashes} |`);
for (const [k, n] of [...failures].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`- ${n} x ${k}`);
const problems: string[] = [];
// Flat means: the highest RSS and fd count of the last window are within 25% (plus a
// slack) of the highest of the first window after warm-up. Highest, not latest: a
// sample right after a crash sees a freshly restarted child.
const windowLen = Math.max(1, Math.floor(samples.length / 4));
if (samples.length >= 1 + 2 * windowLen) {
  const early = samples.slice(1, 1 + windowLen);
  const late = samples.slice(-windowLen);
  const top = (xs: Sample[], f: (s: Sample) => number) => Math.max(...xs.map(f));
  const [rss0, rss1] = [top(early, (s) => s.rssMiB), top(late, (s) => s.rssMiB)];
  const [fd0, fd1] = [top(early, (s) => s.fds), top(late, (s) => s.fds)];
  if (rss1 > rss0 * 1.25 + 16) problems.push(`RSS grew from ${rss0} to ${rss1} MiB`);
  if (fd1 > fd0 * 1.25 + 8) problems.push(`fds grew from ${fd0} to ${fd1}`);
}
const stalled = samples.filter((s) => s.okCalls === 0);
if (stalled.length > 0) problems.push(`no successful call in the window ending at ${stalled.map((s) => `${s.atS}s`).join(", ")}`);
if (problems.length > 0) {
  console.error(`soak: FAILED: ${problems.join("; ")}`);
  process.exit(1);
}
console.error(`soak: flat: ${ok} calls ok, ${failed} failed (around the ${crashes} crashes), ${samples.length} samples`);
process.exit(0);
