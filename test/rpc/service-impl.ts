/**
 * The test service implementation shared by the RPC end-to-end tests, with
 * counters the tests read (produced messages, aborted handlers) and gates
 * (gate/open) that order replies by explicit signals.
 */
import type { CallContext, Metadata } from "../../src/rpc/descriptor.ts";
import { RpcError, type StatusCode } from "../../src/rpc/status.ts";
import { KeyNotFound, type Num, type Text } from "./helpers/fixtures.ts";

export interface Probe {
  produced: number;
  streamStopped: number;
  aborted: { reason: string; at: number }[];
  lastMetadata: Metadata | null;
  lastDeadline: number | undefined;
}

export function makeImpl(probe: Probe, downstream?: (ctx: CallContext) => Promise<number>) {
  const waitAbort = (ctx: CallContext) =>
    new Promise<never>((_, reject) => {
      ctx.signal.addEventListener("abort", () => {
        const reason = ctx.signal.reason as { code?: string };
        probe.aborted.push({ reason: reason?.code ?? String(reason), at: Date.now() });
        reject(ctx.signal.reason);
      });
    });
  const waitingGates = new Map<number, () => void>();
  const openedEarly = new Set<number>();
  return {
    echo(req: Text, ctx: CallContext): Text {
      probe.lastMetadata = ctx.metadata;
      probe.lastDeadline = ctx.deadline;
      if (req.text === "headers") {
        ctx.setHeader("x-h", "hv");
        ctx.setTrailer("x-t", new Uint8Array([1, 2, 3]));
      }
      return { text: req.text };
    },
    delay(req: Num): Promise<Num> {
      return new Promise((r) => setTimeout(() => r({ n: req.n }), req.n));
    },
    fail(req: Text): Text | Promise<Text> {
      if (req.text === "typed") throw new KeyNotFound("k1");
      if (req.text === "bad-response") return null as unknown as Text;
      if (req.text === "big-response") return { text: "b".repeat(5000) };
      if (req.text === "not-an-error") throw "a plain string";
      if (req.text === "reject") return Promise.reject(new Error("rejected on purpose"));
      if (req.text.startsWith("status:")) throw new RpcError(Number(req.text.slice(7)) as StatusCode, `status ${req.text.slice(7)} on purpose`);
      throw new Error("thrown on purpose");
    },
    hang(_req: Text, ctx: CallContext): Promise<Text> {
      return waitAbort(ctx);
    },
    idlDefault(_req: Text, ctx: CallContext): Promise<Text> {
      return waitAbort(ctx);
    },
    async hop(req: Num, ctx: CallContext): Promise<Num> {
      if (downstream === undefined || req.n === 0) return { n: ctx.deadline === undefined ? -1 : ctx.deadline - Date.now() };
      return { n: await downstream(ctx) };
    },
    gate(req: Num): Num | Promise<Num> {
      if (openedEarly.delete(req.n)) return { n: req.n };
      return new Promise((resolve) => waitingGates.set(req.n, () => resolve({ n: req.n })));
    },
    open(req: Num): Num {
      const release = waitingGates.get(req.n);
      if (release === undefined) openedEarly.add(req.n);
      else {
        waitingGates.delete(req.n);
        release();
      }
      return { n: req.n };
    },
    async *count(req: Num, ctx: CallContext): AsyncIterable<Num> {
      try {
        for (let i = 0; i < req.n; i++) {
          if (ctx.signal.aborted) return;
          probe.produced++;
          yield { n: i };
        }
      } finally {
        probe.streamStopped++;
      }
    },
    async sum(reqs: AsyncIterable<Num>): Promise<Num> {
      let s = 0;
      for await (const r of reqs) s += r.n;
      return { n: s };
    },
    async *chat(reqs: AsyncIterable<Text>): AsyncIterable<Text> {
      for await (const r of reqs) yield { text: r.text.toUpperCase() };
    },
  };
}

export function newProbe(): Probe {
  return { produced: 0, streamStopped: 0, aborted: [], lastMetadata: null, lastDeadline: undefined };
}
