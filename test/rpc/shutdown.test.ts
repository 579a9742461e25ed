/**
 * Graceful shutdown under load: every issued call either completes or fails
 * with UNAVAILABLE, none is lost, and the server ends with no open calls.
 * A REQUEST the server refuses because it is shutting down always comes
 * after that connection's GOAWAY, whose lastId is below it, even while the
 * server is still closing its listeners.
 */
import { describe, expect, test } from "bun:test";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import type { RpcError } from "../../src/rpc/status.ts";
import type { Conn, Listener } from "../../src/runtime/types.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, until, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
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

  test("a REQUEST refused while the server shuts down comes after that connection's GOAWAY (lastId below it), even before the listeners are closed", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      // A second listener whose close() the test holds: shutdown() sets draining, then waits on it before its GOAWAYs.
      const { held, release } = heldListener();
      void h.server.serve(held);
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(frameBytes([2, 1, "test.v1.Test/echo", null, null, 3, ["before"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).not.toBeNull();
      const stopping = h.server.shutdown(100);
      await sleep(5);
      await peer.send(frameBytes([2, 2, "test.v1.Test/echo", null, null, 3, ["during"]]));
      expect(await peer.waitFrame(FrameType.STATUS)).not.toBeNull();
      const order = peer.frames.filter((f) => f[0] === FrameType.GOAWAY || f[0] === FrameType.STATUS).map((f) => (f[0] === FrameType.GOAWAY ? `GOAWAY lastId ${f[2]} reason ${f[3]}` : `STATUS id ${f[1]} code ${f[2]}`));
      expect(order).toEqual([`GOAWAY lastId 1 reason ${GoAwayReason.NO_ERROR}`, "STATUS id 2 code 14"]);
      release();
      await stopping;
      await peer.close();
    });
  });

  test("a connection whose last call ends while the server is draining, before its GOAWAY went out, gets the GOAWAY before it closes", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const { held, release } = heldListener();
      void h.server.serve(held);
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(frameBytes([2, 1, "test.v1.Test/delay", null, null, 3, [50]]));
      expect(await until(() => h.server.stats().activeCalls === 1)).toBe(true);
      const stopping = h.server.shutdown(1000);
      expect(await peer.waitFrame(FrameType.RESPONSE)).not.toBeNull();
      expect(await peer.waitEnd()).toBe(true);
      const after = peer.frames.filter((f) => f[0] !== FrameType.HELLO).map((f) => (f[0] === FrameType.GOAWAY ? `GOAWAY lastId ${f[2]}` : `frame ${f[0]} id ${f[1]}`));
      expect(after).toEqual([`frame ${FrameType.RESPONSE} id 1`, "GOAWAY lastId 1"]);
      release();
      await stopping;
    });
  });
});

/** A listener whose close() waits until the test calls release(), then ends its pending accept as a real listener does. */
function heldListener(): { held: Listener; release: () => void } {
  let release: () => void = () => {};
  const closable = new Promise<void>((resolve) => (release = resolve));
  let endAccept: (e: Error) => void = () => {};
  const held: Listener = {
    host: "127.0.0.1",
    port: 1,
    accept: () => new Promise<Conn>((_, reject) => (endAccept = reject)),
    close: () => closable.then(() => endAccept(Object.assign(new Error("listener closed"), { name: "AbortError" }))),
  };
  return { held, release };
}
