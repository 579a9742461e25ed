/**
 * Graceful shutdown under load: every issued call either completes or fails
 * with UNAVAILABLE, none is lost, and the server ends with no open calls.
 */
import { describe, expect, test } from "bun:test";
import type { RpcError } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, until, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

describeDrivers("rpc shutdown", (d) => {
  test("shutdown under load: issued = completed + UNAVAILABLE", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const ch = h.channel({ connectionsPerEndpoint: 2 });
      const outcomes: Promise<string>[] = [];
      const total = 600;
      // Bursts of 50 calls; the shutdown starts after 300 were issued, the other 300 race it.
      const issuer = (async () => {
        for (let i = 0; i < total; ) {
          for (let k = 0; k < 50; k++, i++) {
            const n = (i * 7) % 120;
            outcomes.push(ch.unary(M.delay, { n }).then(() => "ok", (e: RpcError) => e.code));
          }
          await sleep(2);
        }
      })();
      await until(() => outcomes.length >= 300, 5000);
      const done = h.server.shutdown(60);
      await issuer;
      await done;
      const results = await Promise.all(outcomes);
      const ok = results.filter((r) => r === "ok").length;
      const unavailable = results.filter((r) => r === "UNAVAILABLE").length;
      expect(results.length).toBe(total);
      expect(ok).toBeGreaterThan(0);
      expect(unavailable).toBeGreaterThan(0);
      expect(ok + unavailable).toBe(results.length);
      expect(h.server.stats().activeCalls).toBe(0);
      expect(h.server.stats().connections).toBe(0);
    });
  }, 15000);
});
