/**
 * Logs: the two line formats (one line per event, fields kept apart, an
 * error's stack inside its line), the pino-compatible Logger contract, the
 * throttle on repeated limit lines, and what a server logs: a handler
 * failure with its method, call id, status, error id (the same id the
 * client's generic message names), message, stack and duration; limits
 * hit; GOAWAYs; shutdown. Then a real serve() process with
 * --log-format json: every line is JSON, from its start line to its stop.
 */
import { describe, expect, test } from "bun:test";
import { LogThrottle } from "../../src/rpc/log-throttle.ts";
import { ServerEventLog } from "../../src/rpc/server-events.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { jsonLine, textLine } from "../../src/runtime/log/log-line.ts";
import { createLogger, type LogFields, messageLogger, resolveLogger, withFields } from "../../src/runtime/log/logger.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { startServer } from "../helpers/server-process.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

/** A logfmt line back into its pairs (values unquoted), so a test checks fields, not spelling. */
function readLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let consumed = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    if (line.slice(consumed, m.index).trim() !== "") throw new Error(`not logfmt at ${consumed}: ${line}`);
    out[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    consumed = m.index + m[0].length;
  }
  if (line.slice(consumed).trim() !== "") throw new Error(`not logfmt at ${consumed}: ${line}`);
  return out;
}

describe("log lines", () => {
  const when = new Date("2026-12-05T10:00:00.000Z");
  const err = new Error('connect ECONNREFUSED "db01":5432');

  test("text: one logfmt line, values with spaces, quotes or newlines quoted, an error as err.* fields", () => {
    const line = textLine("error", { event: "handler_failed", callId: 7, method: "kv.v1.KeyValue/get", err, skipped: undefined }, "handler failed: boom", when);
    expect(line).not.toContain("\n");
    expect(line.startsWith('time=2026-12-05T10:00:00.000Z level=error msg="handler failed: boom" event=handler_failed callId=7 method=kv.v1.KeyValue/get')).toBe(true);
    const f = readLogfmt(line);
    expect(f["err.type"]).toBe("Error");
    expect(f["err.message"]).toBe('connect ECONNREFUSED "db01":5432');
    expect(f["err.stack"]).toBe(err.stack!);
    expect(f["err.stack"]).toContain("\n    at ");
    expect("skipped" in f).toBe(false);
    expect(readLogfmt(textLine("info", { empty: "", eq: "a=b" }, "m", when))).toMatchObject({ empty: "", eq: "a=b" });
  });

  test("json: one object per line with the fields at top level and the error as { type, message, stack }", () => {
    const line = jsonLine("warn", { event: "limit_hit", n: 10n, err }, "limit", when);
    expect(line).not.toContain("\n");
    const o = JSON.parse(line) as Record<string, unknown>;
    expect(o).toMatchObject({ time: "2026-12-05T10:00:00.000Z", level: "warn", msg: "limit", event: "limit_hit", n: "10" });
    expect(o.err).toEqual({ type: "Error", message: err.message, stack: err.stack! });
  });

  test("createLogger writes each event once in its format; an unknown format is refused", () => {
    const lines: string[] = [];
    const log = createLogger("json", (l) => lines.push(l));
    log.info({ event: "a" }, "first");
    log.error({ event: "b" }, "second");
    expect(lines.map((l) => (JSON.parse(l) as { level: string; event: string }).level + ":" + (JSON.parse(l) as { event: string }).event)).toEqual(["info:a", "error:b"]);
    expect(() => createLogger("yaml" as "json")).toThrow('log format must be "text" or "json"');
  });

  test("withFields adds its fields and prefix to every event of any pino-shaped logger; messageLogger passes messages only", () => {
    const calls: [string, LogFields, string][] = [];
    const pinoLike = {
      info: (o: LogFields, m: string) => calls.push(["info", o, m]),
      warn: (o: LogFields, m: string) => calls.push(["warn", o, m]),
      error: (o: LogFields, m: string) => calls.push(["error", o, m]),
    };
    const child = withFields(pinoLike, { worker: 1, process: 0 }, "p0: ");
    child.warn({ event: "x", worker: 2 }, "hello");
    expect(calls).toEqual([["warn", { worker: 2, process: 0, event: "x" }, "p0: hello"]]);
    expect(resolveLogger({ logger: pinoLike })).toBe(pinoLike);
    const lines: string[] = [];
    messageLogger((l) => lines.push(l)).error({ event: "y" }, "only this");
    expect(lines).toEqual(["only this"]);
  });

  test("the throttle lets the first event of a key through, then one per interval saying how many it left out", () => {
    const t = new LogThrottle(1000);
    expect(t.take("a", 0)).toBe(0);
    expect(t.take("a", 10)).toBeNull();
    expect(t.take("a", 999)).toBeNull();
    expect(t.take("b", 500)).toBe(0);
    expect(t.take("a", 1000)).toBe(2);
    expect(t.take("a", 1500)).toBeNull();
    expect(t.take("a", 2100)).toBe(1);
  });
});

describe("ServerEventLog", () => {
  test("an ENHANCE_YOUR_CALM GOAWAY counts under the limit its message's first word names; a graceful one is counted, not logged", () => {
    const log = recordingLogger();
    const events = new ServerEventLog(log);
    events.goAwaySent(GoAwayReason.ENHANCE_YOUR_CALM, "too_many_pings: 3 PINGs sooner than 10000 ms apart", null);
    events.goAwaySent(GoAwayReason.ENHANCE_YOUR_CALM, "memory_budget: holds 5 MiB of 32", { address: "127.0.0.1", port: 5 });
    events.goAwaySent(GoAwayReason.ENHANCE_YOUR_CALM, "something else entirely", null);
    events.goAwaySent(GoAwayReason.NO_ERROR, "server shutting down", null);
    events.goAwaySent(GoAwayReason.ENHANCE_YOUR_CALM, "too_many_pings: again", null);
    expect(events.rejected.too_many_pings).toBe(2);
    expect(events.rejected.memory_budget).toBe(1);
    expect(Object.values(events.rejected).reduce((a, b) => a + b, 0)).toBe(3);
    expect(events.goAways).toEqual({ ENHANCE_YOUR_CALM: 4, NO_ERROR: 1 });
    // One line per reason and limit; the second too_many_pings within the throttle's interval is counted only.
    expect(log.named("goaway").map((e) => [e.fields.limit, e.fields.peer])).toEqual([["too_many_pings", undefined], ["memory_budget", "127.0.0.1:5"], [undefined, undefined]]);
  });
});

describeDrivers("server logs", (d) => {
  test("a handler that throws: the client gets a generic message and an id, the log has the rest under that id", async () => {
    const log = recordingLogger();
    const impl = {
      ...makeImpl(newProbe()),
      async fail(req: { text: string }) {
        if (req.text === "rpc") throw new RpcError(Status.INTERNAL, "an RpcError the handler chose to send");
        if (req.text === "missing") throw new RpcError(Status.NOT_FOUND, "no such key");
        await sleep(30);
        throw new Error("database connection refused: db01:5432");
      },
    };
    await withServer(d, impl, { logger: log }, async (h) => {
      const ch = h.channel();
      const e = await caught(ch.unary(M.fail, { text: "x" }));
      expect(e.status).toBe(Status.INTERNAL);
      expect(e.message).not.toContain("db01");
      const id = /^internal error; see the server log, id=([0-9a-f]{12})$/.exec(e.message)?.[1];
      expect(id).toBeDefined();
      const chosen = await caught(ch.unary(M.fail, { text: "rpc" }));
      expect(chosen.message).toBe("an RpcError the handler chose to send");
      expect((await caught(ch.unary(M.fail, { text: "missing" }))).status).toBe(Status.NOT_FOUND);
      const failures = log.named("handler_failed");
      expect(failures.length).toBe(2);
      const [first, second] = failures as [(typeof failures)[0], (typeof failures)[0]];
      expect(first.level).toBe("error");
      expect(first.fields).toMatchObject({ method: "test.v1.Test/fail", status: "INTERNAL", errorId: id, callId: 1 });
      expect((first.fields.err as Error).message).toBe("database connection refused: db01:5432");
      expect((first.fields.err as Error).stack).toContain("logging.test.ts");
      // The handler slept 30 ms before it threw.
      expect(first.fields.durationMs as number).toBeGreaterThanOrEqual(25);
      expect(first.fields.durationMs as number).toBeLessThan(5000);
      expect(first.msg).toContain(`(id=${id})`);
      expect(second.fields).toMatchObject({ status: "INTERNAL", callId: 2 });
      expect("errorId" in second.fields).toBe(false);
    });
  });

  test("limits hit, GOAWAYs and shutdown are logged, repeated limit lines throttled", async () => {
    const log = recordingLogger();
    await withServer(d, makeImpl(newProbe()), { logger: log, maxMetadataBytes: 64, maxFrameBytes: 1024 }, async (h) => {
      const ch = h.channel();
      for (let i = 0; i < 3; i++) await caught(ch.unary(M.echo, { text: "x" }, { metadata: { "x-big": "y".repeat(100) } }));
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(new Uint8Array([0x00, 0x10, 0x00, 0x00]));
      expect((await peer.waitFrame(FrameType.GOAWAY))![3]).toBe(GoAwayReason.FRAME_TOO_LARGE);
      await peer.close();
      await sleep(10);
      const limits = log.named("limit_hit");
      expect(limits.map((e) => [e.level, e.fields.limit])).toEqual([["warn", "max_metadata_bytes"]]);
      const goaways = log.named("goaway");
      expect(goaways.length).toBe(1);
      expect(goaways[0]!.fields).toMatchObject({ reason: "FRAME_TOO_LARGE", limit: "max_frame_bytes" });
      expect(goaways[0]!.fields.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(log.named("shutdown")).toEqual([]);
    });
    const down = log.named("shutdown");
    expect(down.length).toBe(1);
    // The harness closes its channels first: whether the server has seen that yet depends on the driver.
    expect([0, 1]).toContain(down[0]!.fields.connections as number);
    expect(down[0]!.fields.graceMs).toBe(100);
  });
});

describe("a serve() process with --log-format json", () => {
  test("logs every event as one JSON line: start, a handler failure with the client's id, shutdown and stop", async () => {
    const s = await startServer("test/rpc/fixtures/log-server.ts", ["--workers", "2", "--log-format", "json"]);
    let code: number | null = null;
    let id: string | undefined;
    try {
      const { runtime: rt } = await createRuntime({ driver: "epoll" });
      try {
        const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: s.port }] });
        const e = await caught(ch.unary(M.fail, { text: "x" }));
        id = /id=([0-9a-f]{12})$/.exec(e.message)?.[1];
        await ch.close();
      } finally {
        await rt.close();
      }
      expect(id).toBeDefined();
      for (let i = 0; i < 100 && !s.stderr().includes(id!); i++) await sleep(20);
    } finally {
      code = await s.stop();
    }
    expect(code).toBe(0);
    const lines = s.stderr().trim().split("\n");
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byEvent = (name: string) => events.filter((e) => e.event === name);
    const start = byEvent("start");
    expect(start.length).toBe(1);
    expect(start[0]).toMatchObject({ level: "info", driver: s.driver, workers: 2, port: s.port });
    if (s.driver === "uring") expect(start[0]!.ringMode).toBe("coop");
    const failed = byEvent("handler_failed");
    expect(failed.length).toBe(1);
    expect(failed[0]).toMatchObject({ level: "error", errorId: id, method: "test.v1.Test/fail", status: "INTERNAL", callId: 1 });
    expect([0, 1]).toContain(failed[0]!.worker as number);
    expect((failed[0]!.err as { stack: string }).stack).toContain("service-impl.ts");
    expect(byEvent("stopping")[0]).toMatchObject({ signal: "SIGTERM" });
    expect(byEvent("shutdown").map((e) => e.worker).sort()).toEqual([0, 1]);
    expect(byEvent("stop").length).toBe(1);
    expect(byEvent("stop")[0]).toMatchObject({ workers: 2 });
    expect(events.at(-1)!.event).toBe("stop");
  });
});
