/**
 * The unary fast path (BoundMethod.plain): a unary handler declared with one
 * parameter cannot see its context, so a synchronous answer is written with
 * no call state. Which methods take it (not a two-parameter handler, a
 * stream, an interceptor's method or an unimplemented one), and that what
 * leaves the fast path still behaves: a throw, a bad response, a promise
 * that resolves, and one that never does (deadline, cancel, no call left
 * open). On both drivers.
 */
import { expect, test } from "bun:test";
import type { CallContext } from "../../src/rpc/descriptor.ts";
import type { RpcServer } from "../../src/rpc/server.ts";
import type { ConnectionOwner } from "../../src/rpc/server-connection.ts";
import { Status } from "../../src/rpc/status.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M, type Num, type Text } from "./helpers/fixtures.ts";
import { until, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

/** The server's method table (internal: what a connection looks methods up in). */
const lookup = (server: RpcServer, path: string) => (server as unknown as ConnectionOwner).lookup(path);

describeDrivers("unary fast path", (d) => {
  test("one-parameter unary handlers take it; a context, a stream or an interceptor keeps the call state", async () => {
    let hung = 0;
    const impl = {
      ...makeImpl(newProbe()),
      echo: (req: Text): Text => ({ text: req.text.toUpperCase() }),
      hop: (req: Num, ctx: CallContext): Num => ({ n: req.n + (ctx.deadline === undefined ? 0 : 1) }),
      hang: (_req: Text): Promise<Text> => {
        hung++;
        return new Promise(() => {});
      },
    };
    await withServer(d, impl, {}, async (h) => {
      const plain = (m: { path: string }) => {
        const bound = lookup(h.server, m.path);
        return bound === undefined ? "unbound" : bound.plain !== null;
      };
      expect({ echo: plain(M.echo), fail: plain(M.fail), hop: plain(M.hop), count: plain(M.count), chat: plain(M.chat) }).toEqual({
        echo: true, fail: true, hop: false, count: false, chat: false,
      });
      const ch = h.channel();
      expect(await ch.unary(M.echo, { text: "abc" })).toEqual({ text: "ABC" });
      expect(await ch.unary(M.hop, { n: 1 }, { timeoutMs: 5000 })).toEqual({ n: 2 });
      const typed = await caught(ch.unary(M.fail, { text: "typed" }));
      const bad = await caught(ch.unary(M.fail, { text: "bad-response" }));
      const rejected = await caught(ch.unary(M.fail, { text: "reject" }));
      expect([typed.status, bad.status, rejected.status]).toEqual([Status.NOT_FOUND, Status.INTERNAL, Status.INTERNAL]);
      expect(bad.message).toContain("could not encode");
      expect(await ch.unary(M.delay, { n: 5 })).toEqual({ n: 5 });
      const late = await caught(ch.unary(M.hang, { text: "x" }, { timeoutMs: 30 }));
      const ac = new AbortController();
      const cancelled = caught(ch.unary(M.hang, { text: "x" }, { signal: ac.signal }));
      expect(await until(() => hung === 2)).toBe(true);
      ac.abort();
      expect([late.status, (await cancelled).status]).toEqual([Status.DEADLINE_EXCEEDED, Status.CANCELLED]);
      expect(await until(() => h.server.stats().activeCalls === 0)).toBe(true);
    });
    await withServer(d, { ...impl }, { interceptors: [(call, next) => next(call)] }, async (h) => {
      expect(lookup(h.server, M.echo.path)?.plain).toBeNull();
      expect(await h.channel().unary(M.echo, { text: "i" })).toEqual({ text: "I" });
    });
  });
});
