/**
 * The kv example's service implementation: an in-memory store per worker
 * (thread-per-core: each worker owns its own shard, nothing is shared), with
 * compare-and-set puts, typed errors and a watch stream fed by puts.
 */
import type { CallContext } from "ringrpc/rpc";
import {
  type ChatMsg, type Chunk, type Entry, type Event, type GetReply, type GetRequest, KeyNotFound,
  type KeyValueHandlers, type PutReply, type PutRequest, type UploadReply, VersionMismatch, type WatchRequest,
} from "./gen/kv.ts";

/** One watcher's pending events and the resolver of its waiting `next()`. */
class Subscription {
  readonly queue: Event[] = [];
  wake: (() => void) | null = null;
  constructor(readonly prefix: string) {}
  push(e: Event): void {
    this.queue.push(e);
    this.wake?.();
    this.wake = null;
  }
}

export class KvStore implements KeyValueHandlers {
  private readonly entries = new Map<string, Entry>();
  private readonly subs = new Set<Subscription>();

  get(req: GetRequest): GetReply {
    const entry = this.entries.get(req.key);
    if (!entry) throw new KeyNotFound({ key: req.key }, `no key "${req.key}"`);
    return { entry };
  }

  put(req: PutRequest): PutReply {
    const current = this.entries.get(req.key);
    const currentVersion = current?.version ?? 0n;
    if (req.expected_version !== undefined && req.expected_version !== currentVersion) {
      throw new VersionMismatch({ key: req.key, current: currentVersion }, `"${req.key}" is at version ${currentVersion}`);
    }
    const entry: Entry = { key: req.key, value: req.value, version: currentVersion + 1n, updated_at: new Date() };
    this.entries.set(req.key, entry);
    for (const s of this.subs) if (req.key.startsWith(s.prefix)) s.push({ change: { kind: "put", value: entry }, at: entry.updated_at! });
    return { version: entry.version! };
  }

  async *watch(req: WatchRequest, ctx: CallContext): AsyncIterable<Event> {
    const sub = new Subscription(req.prefix);
    this.subs.add(sub);
    const onAbort = () => sub.wake?.();
    ctx.signal.addEventListener("abort", onAbort);
    try {
      while (!ctx.signal.aborted) {
        const next = sub.queue.shift();
        if (next) yield next;
        else await new Promise<void>((resolve) => (sub.wake = resolve));
      }
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      this.subs.delete(sub);
    }
  }

  async upload(reqs: AsyncIterable<Chunk>): Promise<UploadReply> {
    let count = 0;
    for await (const chunk of reqs) {
      for (const e of chunk.entries) {
        this.put({ key: e.key, value: e.value, origin: 2 });
        count++;
      }
    }
    return { count };
  }

  async *chat(reqs: AsyncIterable<ChatMsg>): AsyncIterable<ChatMsg> {
    for await (const m of reqs) yield { from: "kv", text: `${m.from} said: ${m.text}` };
  }
}
