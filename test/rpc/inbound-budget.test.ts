/**
 * Request messages a handler has not read yet count against the worker's
 * memory budget (src/rpc/memory-budget.ts via ServerCallState.pushInbound):
 * 20 bidi calls each send 60 messages of ~900 bytes to a handler that does
 * not read until a gate opens; the budget's usedBytes holds them (a client
 * stream's window is otherwise memory the budget cannot see), and drops back
 * once the handlers consumed them and the calls ended.
 */
import { expect, test } from "bun:test";
import type { Text } from "./helpers/fixtures.ts";
import { TestService } from "./helpers/fixtures.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { until, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const CALLS = 20;
const MESSAGES = 60;
const TEXT = "x".repeat(900);

describeDrivers("request messages waiting for a handler", (d) => {
  test(`${CALLS} calls x ${MESSAGES} unread messages are counted by the budget, and released`, async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const impl = {
      ...makeImpl(newProbe()),
      async *chat(reqs: AsyncIterable<Text>): AsyncIterable<Text> {
        await gate;
        let n = 0;
        for await (const _ of reqs) n++;
        yield { text: String(n) };
      },
    };
    await withServer(d, impl, {}, async (h) => {
      const ch = h.channel();
      const replies = Array.from({ length: CALLS }, async () => {
        const out: string[] = [];
        const msgs = Array.from({ length: MESSAGES }, () => ({ text: TEXT }));
        for await (const r of ch.bidi(TestService.methods.chat!, msgs)) out.push((r as Text).text);
        return out;
      });
      const wanted = CALLS * MESSAGES * TEXT.length;
      const held = await until(() => h.server.stats().memory.usedBytes >= wanted, 5000);
      const usedWhileHeld = h.server.stats().memory.usedBytes;
      openGate();
      expect((await Promise.all(replies)).flat()).toEqual(Array(CALLS).fill(String(MESSAGES)));
      // The next read or write of the connection brings its charge up to date.
      await ch.unary(TestService.methods.echo!, { text: "after" });
      const after = h.server.stats().memory.usedBytes;
      expect({ held, usedWhileHeldOverWanted: usedWhileHeld >= wanted, releasedBelow64KiB: after < 64 << 10 }).toEqual({
        held: true,
        usedWhileHeldOverWanted: true,
        releasedBelow64KiB: true,
      });
    });
  }, 20_000);
});
