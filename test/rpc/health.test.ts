/**
 * The health service (src/services/health.ts) over 127.0.0.1 with its
 * generated client: check per service and overall, UnknownService for a
 * service it has no status for, watch streaming the status now and every
 * change, SERVICE_UNKNOWN in watch, and drain (NOT_SERVING to every watcher,
 * then their streams end). Then serve() itself, in a kv server process:
 * SIGTERM turns a watcher's status NOT_SERVING, its stream ends cleanly, and
 * the watch does not hold the shutdown's grace period.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createChannel } from "../../src/rpc/client.ts";
import { Status } from "../../src/rpc/status.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import { type HealthCheckReply, HealthClient, ServingStatus } from "../../src/services/gen/health.ts";
import { HealthService } from "../../src/services/health.ts";
import { startServer } from "../helpers/server-process.ts";
import { caught } from "./helpers/caught.ts";
import { drivers } from "./helpers/drivers.ts";
import { withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const epoll = drivers[0]!;
const timeoutMs = 2000;
const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = ServingStatus;

/** Reads `n` statuses from a watch stream, then returns them with the iterator (left open). */
async function take(it: AsyncIterator<HealthCheckReply>, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value.status);
  }
  return out;
}

describe("ringrpc.health.v1.Health", () => {
  test("check: overall and per service; a status set later; UnknownService (NOT_FOUND) for a stranger", async () => {
    const health = new HealthService(["kv.v1.KeyValue"]);
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const client = new HealthClient(h.channel());
      expect((await client.check({ service: "" }, { timeoutMs })).status).toBe(SERVING);
      expect((await client.check({ service: "kv.v1.KeyValue" }, { timeoutMs })).status).toBe(SERVING);
      health.setStatus("kv.v1.KeyValue", NOT_SERVING);
      expect((await client.check({ service: "kv.v1.KeyValue" }, { timeoutMs })).status).toBe(NOT_SERVING);
      expect((await client.check({ service: "" }, { timeoutMs })).status).toBe(SERVING);
      const e = await caught(client.check({ service: "x.v1.Nope" }, { timeoutMs }));
      expect([e.status, e.code, e.message]).toEqual([Status.NOT_FOUND, "ringrpc.health.v1.UnknownService", 'no health status for service "x.v1.Nope"']);
    }, [health.binding()]);
  });

  test("watch: the status now, then each change; SERVICE_UNKNOWN for a service with none", async () => {
    const health = new HealthService(["a.v1.A"]);
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const client = new HealthClient(h.channel());
      const it = client.watch({ service: "a.v1.A" }, { timeoutMs })[Symbol.asyncIterator]();
      expect(await take(it, 1)).toEqual([SERVING]);
      health.setStatus("a.v1.A", NOT_SERVING);
      health.setStatus("b.v1.Other", NOT_SERVING);
      health.setStatus("a.v1.A", SERVING);
      expect(await take(it, 2)).toEqual([NOT_SERVING, SERVING]);
      await it.return?.();
      const unknown = client.watch({ service: "c.v1.C" }, { timeoutMs })[Symbol.asyncIterator]();
      expect(await take(unknown, 1)).toEqual([SERVICE_UNKNOWN]);
      await unknown.return?.();
    }, [health.binding()]);
  });

  test("drain: every watcher gets NOT_SERVING, its stream ends, and later statuses are ignored", async () => {
    const health = new HealthService(["a.v1.A"]);
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const client = new HealthClient(h.channel());
      const all = client.watch({ service: "" }, { timeoutMs })[Symbol.asyncIterator]();
      const one = client.watch({ service: "a.v1.A" }, { timeoutMs })[Symbol.asyncIterator]();
      expect(await take(all, 1)).toEqual([SERVING]);
      expect(await take(one, 1)).toEqual([SERVING]);
      health.drain();
      health.setStatus("a.v1.A", SERVING);
      expect(await take(all, 5)).toEqual([NOT_SERVING]);
      expect(await take(one, 5)).toEqual([NOT_SERVING]);
      expect((await client.check({ service: "a.v1.A" }, { timeoutMs })).status).toBe(NOT_SERVING);
    }, [health.binding()]);
  });
});

describe("serve() and health", () => {
  test("SIGTERM: a watcher hears NOT_SERVING, its stream ends cleanly, and the server exits well within its grace", async () => {
    const server = await startServer(join(import.meta.dir, "..", "..", "examples/kv/server.ts"), ["--port", "0", "--workers", "1"]);
    const rt = await createEpollRuntime();
    const ch = createChannel(rt, { endpoints: [{ host: server.host, port: server.port }] });
    try {
      const it = new HealthClient(ch).watch({ service: "kv.v1.KeyValue" }, { timeoutMs: 8000 })[Symbol.asyncIterator]();
      expect(await take(it, 1)).toEqual([SERVING]);
      const t0 = performance.now();
      const exited = server.stop(8000);
      expect(await take(it, 5)).toEqual([NOT_SERVING]);
      expect(await exited).toBe(0);
      // The default grace is 5000 ms; an open watch that held it would take that long (measured: ~150 ms without).
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      await ch.close();
      await rt.close();
      await server.stop(1000);
    }
  }, 20000);
});
