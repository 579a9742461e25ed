/**
 * PutObserver: which kv server ran which put, seen from the servers
 * themselves. For each server (one worker, one store) it opens a kv watch
 * stream over a connection of its own, proves the stream is live with a
 * marker put it must see, and records every client put (`deploy/c/...`)
 * the server runs. When the server drains (its GOAWAY reaches the watching
 * connection: every put the server ran came before it) the watch is
 * cancelled, so it never holds the server's shutdown; a killed server's
 * watch just fails. Puts a restarted server ran before its watch was live
 * are found in its store instead (`findInStore`, before it stops: the
 * version says how often it ran). Owns the record of runs; asserts nothing
 * itself.
 */
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { KeyValueClient, Origin } from "../../examples/kv/gen/kv.ts";

export const CLIENT_PREFIX = "deploy/c/";

interface Watching {
  channel: Channel;
  abort: AbortController;
  done: Promise<void>;
  poll: ReturnType<typeof setInterval>;
}

export class PutObserver {
  /** Client put key -> the servers (by index) that ran it. */
  private readonly runs = new Map<string, number[]>();
  private readonly perServer: number[] = [];
  /** Client put key -> [server index, version] found in that server's store. */
  private readonly stored = new Map<string, [number, bigint]>();
  private readonly watching: Watching[] = [];
  private generation = 0;

  /** Starts watching server `index` at host:port; resolves once its watch stream is live. */
  async watch(rt: Runtime, index: number, host: string, port: number): Promise<void> {
    const channel = createChannel(rt, { endpoints: [{ host, port }] });
    const kv = new KeyValueClient(channel);
    const abort = new AbortController();
    const marker = `deploy/m/${index}/${++this.generation}`;
    let seen = false;
    let live: () => void = () => {};
    const seenMarker = new Promise<void>((resolve) => (live = resolve));
    this.perServer[index] ??= 0;
    const done = (async () => {
      try {
        for await (const ev of kv.watch({ prefix: "deploy/" }, { signal: abort.signal })) {
          if (ev.change.kind !== "put") continue;
          const key = ev.change.value.key;
          if (key === marker) {
            seen = true;
            live();
          }
          if (!key.startsWith(CLIENT_PREFIX)) continue;
          const r = this.runs.get(key);
          if (r === undefined) this.runs.set(key, [index]);
          else r.push(index);
          this.perServer[index]!++;
        }
      } catch {
        // Cancelled after the server's GOAWAY, or the server was killed: the events before it are recorded.
      }
    })();
    // The watched connection stops being ready when the server's GOAWAY arrives: then stop watching.
    let wasReady = false;
    const poll = setInterval(() => {
      const ready = channel.stats().addresses[0]?.ready ?? 0;
      if (ready > 0) wasReady = true;
      else if (wasReady) abort.abort("the server is draining");
    }, 5);
    this.watching.push({ channel, abort, done, poll });
    await kv.put({ key: marker, value: new Uint8Array([1]), origin: Origin.ORIGIN_CLIENT });
    const late = setTimeout(() => abort.abort("marker not seen"), 3000);
    await Promise.race([seenMarker, done]);
    clearTimeout(late);
    if (!seen) throw new Error(`the kv watch on ${host}:${port} did not see its marker put within 3 s`);
  }

  /** Client puts seen running on server `index` so far (every start of it). */
  clientPutsOn(index: number): number {
    return this.perServer[index] ?? 0;
  }

  /** The share of the client puts that server `index` ran during the next `ms`. */
  async shareOver(index: number, ms: number): Promise<number> {
    const before = [...this.perServer];
    await Bun.sleep(ms);
    const delta = this.perServer.map((n, i) => n - (before[i] ?? 0));
    const all = delta.reduce((a, b) => a + b, 0);
    return all === 0 ? 0 : (delta[index] ?? 0) / all;
  }

  /** Looks up, in server `index`'s store, each of `keys` no watch has seen run. */
  async findInStore(rt: Runtime, index: number, host: string, port: number, keys: readonly string[]): Promise<void> {
    const unseen = keys.filter((k) => !this.runs.has(k) && !this.stored.has(k));
    if (unseen.length === 0) return;
    const channel = createChannel(rt, { endpoints: [{ host, port }] });
    const kv = new KeyValueClient(channel);
    try {
      for (const key of unseen) {
        const reply = await kv.get({ key }).catch((e: { code?: string }) => (e.code === "kv.v1.KeyNotFound" ? null : Promise.reject(e)));
        if (reply !== null) this.stored.set(key, [index, reply.entry.version ?? 0n]);
      }
    } finally {
      await channel.close();
    }
  }

  /**
   * Every client put seen running (watched or found stored), and those that
   * ran more than once. A put found in a server's store may also reach that
   * server's watch afterwards (its event was still on the way when the
   * store was asked): that is the same run, so on that server the put ran
   * as often as the larger of its version and its watched runs says.
   */
  executions(): { total: number; keys: Set<string>; twice: string[] } {
    let total = 0;
    const twice: string[] = [];
    const keys = new Set([...this.runs.keys(), ...this.stored.keys()]);
    for (const key of keys) {
      const watched = this.runs.get(key) ?? [];
      const found = this.stored.get(key);
      let ranOn = watched;
      if (found !== undefined) {
        const [server, version] = found;
        const watchedThere = watched.filter((s) => s === server).length;
        ranOn = [...watched.filter((s) => s !== server), ...new Array<number>(Math.max(watchedThere, Number(version))).fill(server)];
      }
      total += ranOn.length;
      if (ranOn.length > 1)
        twice.push(`${key} ran ${ranOn.length} times, on servers ${ranOn.join(", ")}${found === undefined ? "" : ` (at version ${found[1]} in server ${found[0]}'s store)`}`);
    }
    return { total, keys, twice };
  }

  async close(): Promise<void> {
    for (const w of this.watching) {
      clearInterval(w.poll);
      w.abort.abort("test over");
    }
    await Promise.all(this.watching.map((w) => w.done));
    await Promise.all(this.watching.map((w) => w.channel.close()));
  }
}
