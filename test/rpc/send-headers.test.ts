/**
 * ctx.sendHeaders() (schema evolution issue, point 5): a streaming handler
 * sends its response headers before its first message, so the client's
 * onHeaders fires while the handler still waits; setHeader afterwards throws
 * FAILED_PRECONDITION; with nothing set, the headers arrive empty; and the
 * messages and trailers that follow are unchanged. On both drivers.
 */
import { expect, test } from "bun:test";
import type { CallContext, Metadata } from "../../src/rpc/descriptor.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { type Num, TestService } from "./helpers/fixtures.ts";
import { until, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

describeDrivers("sendHeaders", (d) => {
  test("headers reach the client before the first message; setHeader afterwards is refused", async () => {
    /** One gate per call: the handler waits on it after sending its headers. */
    const gates: (() => void)[] = [];
    let lateSetHeader: string | null = null;
    const impl = {
      ...makeImpl(newProbe()),
      async *count(req: Num, ctx: CallContext): AsyncIterable<Num> {
        if (req.n > 0) ctx.setHeader("x-shard", "7");
        ctx.sendHeaders();
        ctx.sendHeaders(); // a second call does nothing
        try {
          ctx.setHeader("x-late", "1");
        } catch (e) {
          lateSetHeader = `${(e as RpcError).status}`;
        }
        await new Promise<void>((r) => gates.push(r));
        for (let i = 0; i < Math.max(1, req.n); i++) yield { n: i };
      },
    };
    await withServer(d, impl, {}, async (h) => {
      const ch = h.channel();
      for (const n of [3, 0]) {
        const seen: Metadata[] = [];
        const got: number[] = [];
        const reading = (async () => {
          for await (const m of ch.serverStream(TestService.methods.count!, { n } as Num, { onHeaders: (md) => seen.push(md) })) got.push((m as Num).n);
        })();
        const before = await until(() => seen.length > 0 && gates.length > 0, 2000);
        const messagesBeforeGate = got.length;
        gates.shift()?.();
        await reading;
        expect({ n, before, messagesBeforeGate, headers: seen, got }).toEqual({
          n,
          before: true,
          messagesBeforeGate: 0,
          headers: [n > 0 ? { "x-shard": "7" } : {}],
          got: n > 0 ? [0, 1, 2] : [0],
        });
      }
      expect(lateSetHeader).toBe(String(Status.FAILED_PRECONDITION));
    });
  });
});
