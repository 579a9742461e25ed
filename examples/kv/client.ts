/**
 * The kv example client: puts, gets, a typed error, a compare-and-set
 * conflict, a watch stream, a cancelled call, a client stream, a bidi chat,
 * then a short throughput run. Prints what happened, one line per step.
 *   bun examples/kv/client.ts --port P [--seconds 2]
 */
import { type Channel, createChannel, createRuntime, type Runtime } from "ringrpc";
import { intFlag, readFlags } from "../flags.ts";
import { KeyValueClient } from "./gen/kv.ts";

const text = new TextEncoder();
const fromBytes = (b: Uint8Array) => new TextDecoder().decode(b);

function describeError(err: unknown): string {
  const e = err as { code?: string; status?: number; message?: string };
  return `${e.code} (status ${e.status}): ${e.message}`;
}

async function throughput(rt: Runtime, host: string, port: number, seconds: number, log: (s: string) => void): Promise<void> {
  // Several channels, so SO_REUSEPORT spreads their connections over the workers.
  const channels: Channel[] = Array.from({ length: 4 }, () => createChannel(rt, { endpoints: [{ host, port }] }));
  const depth = 32;
  let calls = 0;
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(channels.flatMap((ch, c) => {
    const kv = new KeyValueClient(ch);
    return Array.from({ length: depth }, async (_, i) => {
      const key = `bench:${c}:${i}`;
      await kv.put({ key, value: text.encode("x".repeat(32)), origin: 1 });
      while (Date.now() < until) {
        try {
          await kv.get({ key });
          calls++;
        } catch {
          errors++;
        }
      }
    });
  }));
  const secs = (performance.now() - start) / 1000;
  log(`throughput: ${Math.round(calls / secs).toLocaleString("en-US")} gets/s over ${channels.length} connections x ${depth} in flight for ${secs.toFixed(1)} s (errors: ${errors})`);
  await Promise.all(channels.map((c) => c.close()));
}

export async function runKvDemo(opts: { host: string; port: number; seconds: number; log: (line: string) => void }): Promise<void> {
  const { host, port, log } = opts;
  const { runtime: rt } = await createRuntime();
  const channel = createChannel(rt, { endpoints: [{ host, port }] });
  const kv = new KeyValueClient(channel);
  try {
    for (const [k, v] of [["user:1", "ann"], ["user:2", "bob"], ["user:3", "cy"]] as const) {
      const r = await kv.put({ key: k, value: text.encode(v), origin: 1 });
      log(`put ${k}=${v} -> version ${r.version}`);
    }
    const got = await kv.get({ key: "user:2" });
    log(`get user:2 -> "${fromBytes(got.entry.value)}" (version ${got.entry.version}, updated ${got.entry.updated_at?.toISOString()})`);
    await kv.get({ key: "user:404" }).then(
      () => log("get user:404 -> unexpectedly found"),
      (e) => log(`get user:404 -> typed error ${describeError(e)}`),
    );
    await kv.put({ key: "user:1", value: text.encode("zed"), expected_version: 7n, origin: 1 }).then(
      () => log("stale compare-and-set -> unexpectedly accepted"),
      (e) => log(`compare-and-set with version 7 -> typed error ${describeError(e)}`),
    );

    // Watch: the stream sees puts made after it opened; breaking out cancels it on the server.
    const seen: string[] = [];
    const watching = (async () => {
      for await (const ev of kv.watch({ prefix: "user:" })) {
        if (ev.change.kind === "put") seen.push(`${ev.change.value.key}@${ev.change.value.version}`);
        if (seen.length === 2) break;
      }
    })();
    await Bun.sleep(20);
    await kv.put({ key: "user:4", value: text.encode("dee"), origin: 1 });
    await kv.put({ key: "user:1", value: text.encode("ann2"), origin: 1 });
    await watching;
    log(`watch user: -> ${seen.join(", ")} then break (the server's stream is cancelled)`);

    // A cancelled call: a watch on a quiet prefix, aborted by the client after 100 ms.
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 100);
    try {
      for await (const _ of kv.watch({ prefix: "quiet:" }, { signal: ac.signal })) log("quiet watch -> unexpected event");
      log("cancelled watch -> ended without an error");
    } catch (e) {
      log(`cancelled watch -> ${describeError(e)} after ${Math.round(performance.now() - t0)} ms`);
    }

    const up = await kv.upload([
      { entries: [{ key: "bulk:1", value: text.encode("a") }, { key: "bulk:2", value: text.encode("b") }] },
      { entries: [{ key: "bulk:3", value: text.encode("c") }] },
    ]);
    log(`upload (client stream, 2 chunks) -> ${up.count} entries stored`);
    const replies: string[] = [];
    for await (const m of kv.chat([{ from: "ann", text: "hi" }, { from: "bob", text: "yo" }])) replies.push(m.text);
    log(`chat (bidi) -> ${replies.map((r) => JSON.stringify(r)).join(", ")}`);
    await throughput(rt, host, port, opts.seconds, log);
  } finally {
    await channel.close();
    await rt.close();
  }
}

if (import.meta.main) {
  const args = readFlags(process.argv.slice(2), ["host", "port", "seconds"]);
  await runKvDemo({
    host: args.get("host") ?? "127.0.0.1",
    port: intFlag(args, "port", 7100, 1, 65535),
    seconds: intFlag(args, "seconds", 2, 1, 600),
    log: (l) => console.log(l),
  });
}
