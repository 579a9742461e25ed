/**
 * Metrics: the exposition checker itself (it must reject what Prometheus
 * would misread, or the other tests prove nothing), the per-method call
 * counters and their histogram, a server and a client counting real calls
 * over 127.0.0.1 on each driver (every count checked against the calls
 * made), limits and GOAWAYs counted by name, and the main thread's sum over
 * workers staying monotonic across a worker's restart.
 */
import { describe, expect, test } from "bun:test";
import { MetricsAggregator } from "../../src/rpc/metrics/aggregate.ts";
import { CallCounters, checkBuckets } from "../../src/rpc/metrics/call-counters.ts";
import { ClientMetrics } from "../../src/rpc/metrics/client-metrics.ts";
import { SERVER_METRIC_FAMILIES } from "../../src/rpc/metrics/endpoint.ts";
import { exposition } from "../../src/rpc/metrics/exposition.ts";
import { callSamples } from "../../src/rpc/metrics/samples.ts";
import { callFamilies } from "../../src/rpc/metrics/catalog.ts";
import { type WorkerMetricsReport, workerMetricsReport } from "../../src/rpc/metrics/worker-report.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { Status } from "../../src/rpc/status.ts";
import type { RuntimeStats } from "../../src/runtime/types.ts";
import { parseExposition, sampleValue } from "../helpers/exposition-check.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const HEAD = "# HELP x_total X.\n# TYPE x_total counter\n";
const HIST = "# HELP h Hist.\n# TYPE h histogram\n";

describe("the exposition checker", () => {
  test("accepts a well-formed exposition and reads its values", () => {
    const text = `${HEAD}x_total{a="1",b="q\\"\\\\\\n"} 3\nx_total{a="2"} 4e+2\n${HIST}h_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0.3\nh_count 2\n`;
    const f = parseExposition(text);
    expect(sampleValue(f, "x_total", { a: "1" })).toBe(3);
    expect(f.get("x_total")!.samples[0]!.labels.b).toBe('q"\\\n');
    expect(sampleValue(f, "x_total", { a: "2" })).toBe(400);
    expect(sampleValue(f, "h_count")).toBe(2);
  });

  const broken: [string, string, RegExp][] = [
    ["a sample before HELP/TYPE", `x_total 1\n`, /before its family/],
    ["TYPE without HELP", `# TYPE x_total counter\nx_total 1\n`, /without its HELP/],
    ["an unknown comment", `# hello\n${HEAD}x_total 1\n`, /neither HELP nor TYPE/],
    ["a family split in two", `${HEAD}x_total 1\n${HIST}h_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\nx_total{a="1"} 1\n`, /outside its family/],
    ["a duplicate series", `${HEAD}x_total{a="1"} 1\nx_total{a="1"} 2\n`, /duplicate series/],
    ["a counter not named _total", `# HELP y Y.\n# TYPE y counter\ny 1\n`, /_total/],
    ["a negative counter", `${HEAD}x_total -1\n`, /negative/],
    ["an unescaped quote", `${HEAD}x_total{a="q"q"} 1\n`, /expected , or }/],
    ["a bad escape", `${HEAD}x_total{a="\\t"} 1\n`, /bad escape/],
    ["a trailing comma", `${HEAD}x_total{a="1",} 1\n`, /trailing comma/],
    ["a timestamp", `${HEAD}x_total 1 1700000000\n`, /no timestamp/],
    ["a value that is not a float", `${HEAD}x_total one\n`, /not a float/],
    ["a blank line", `${HEAD}\nx_total 1\n`, /blank line/],
    ["no final newline", `${HEAD}x_total 1`, /newline/],
    ["buckets that are not cumulative", `${HIST}h_bucket{le="0.1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 1\n`, /not cumulative/],
    ["+Inf different from _count", `${HIST}h_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0\nh_count 3\n`, /_count 3 != \+Inf bucket 2/],
    ["no +Inf bucket", `${HIST}h_bucket{le="0.1"} 1\nh_sum 0\nh_count 1\n`, /not \+Inf/],
    ["bounds out of order", `${HIST}h_bucket{le="1"} 1\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 1\n`, /not increasing/],
    ["a histogram without _sum", `${HIST}h_bucket{le="+Inf"} 1\nh_count 1\n`, /_sum or _count missing/],
  ];
  for (const [what, text, why] of broken) {
    test(`rejects ${what}`, () => {
      expect(() => parseExposition(text)).toThrow(why);
    });
  }
});

describe("call counters", () => {
  test("histogram buckets are cumulative in the exposition, and _count equals the calls ended", () => {
    let endTurn: (() => void) | null = null;
    const c = new CallCounters([0.001, 0.01], (fn) => {
      endTurn = fn;
    });
    const slot = c.addMethod({ service: "s.v1.S", method: "m", kind: "unary" });
    const t0 = c.start(slot);
    c.end(slot, Status.OK, t0);
    c.end(slot, Status.NOT_FOUND, t0);
    c.end(slot, 99, t0); // outside 0..16: counted as UNKNOWN
    const busyUntil = performance.now() + 3;
    while (performance.now() < busyUntil) {
      // the three calls take >= 3 ms: past the 1 ms bucket
    }
    endTurn!();
    const snap = c.snapshot();
    expect(snap.started).toEqual([1]);
    expect(snap.handled[Status.OK]).toBe(1);
    expect(snap.handled[Status.NOT_FOUND]).toBe(1);
    expect(snap.handled[Status.UNKNOWN]).toBe(1);
    expect(snap.buckets[0]).toBe(0);
    expect(snap.buckets[0]! + snap.buckets[1]! + snap.buckets[2]!).toBe(3);
    expect(snap.sums[0]).toBeGreaterThanOrEqual(0.009);
    const f = parseExposition(exposition(callFamilies("grpc_server"), callSamples("grpc_server", snap)));
    const l = { grpc_service: "s.v1.S", grpc_method: "m", grpc_type: "unary" };
    expect(sampleValue(f, "grpc_server_handled_total", { ...l, grpc_code: "NotFound" })).toBe(1);
    expect(sampleValue(f, "grpc_server_handled_total", { ...l, grpc_code: "Unknown" })).toBe(1);
    expect(sampleValue(f, "grpc_server_handling_seconds_bucket", { ...l, le: "0.001" })).toBe(0);
    expect(sampleValue(f, "grpc_server_handling_seconds_bucket", { ...l, le: "+Inf" })).toBe(3);
    expect(sampleValue(f, "grpc_server_handling_seconds_count", l)).toBe(3);
  });

  test("one clock reading per turn: calls started in one turn share their start", () => {
    const turns: (() => void)[] = [];
    const c = new CallCounters([1], (fn) => turns.push(fn));
    const slot = c.addMethod({ service: "s", method: "m", kind: "unary" });
    const a = c.start(slot);
    const busyUntil = performance.now() + 1;
    while (performance.now() < busyUntil) {
      // time passes within the turn
    }
    expect(c.start(slot)).toBe(a);
    expect(turns.length).toBe(1);
    turns.shift()!();
    expect(c.start(slot)).toBeGreaterThan(a);
  });

  test("a call that ends in a later turn is timed from its own turn's start to the end of the turn it ended in", () => {
    const turns: (() => void)[] = [];
    const c = new CallCounters([0.001, 1], (fn) => turns.push(fn));
    const slot = c.addMethod({ service: "s", method: "m", kind: "unary" });
    const early = c.start(slot);
    turns.shift()!(); // that turn ends with the call still open
    const busyUntil = performance.now() + 2;
    while (performance.now() < busyUntil) {
      // the open call takes >= 2 ms
    }
    const quick = c.start(slot);
    expect(quick).toBeGreaterThan(early);
    c.end(slot, Status.OK, early);
    c.end(slot, Status.OK, quick);
    expect(turns.length).toBe(1);
    turns.shift()!();
    const snap = c.snapshot();
    // The quick call (same turn) is in the 1 ms bucket; the early one past it.
    expect(snap.buckets).toEqual([1, 1, 0]);
    expect(snap.sums[0]).toBeGreaterThanOrEqual(0.002);
    expect(snap.handled[Status.OK]).toBe(2);
  });

  test("bucket bounds must be positive and increasing", () => {
    expect(() => checkBuckets([])).toThrow("must not be empty");
    expect(() => checkBuckets([0.1, 0.1])).toThrow("increasing");
    expect(() => checkBuckets([0, 1])).toThrow("positive");
    expect(checkBuckets([0.5, 1])).toEqual([0.5, 1]);
  });
});

/** The exposition a one-worker serve() would give for this server right now. */
function scrape(data: WorkerMetricsReport): ReturnType<typeof parseExposition> {
  return parseExposition(exposition(SERVER_METRIC_FAMILIES, new MetricsAggregator().aggregate([{ process: 0, worker: 0, data }])));
}

const of = (method: string, type: string) => ({ grpc_service: "test.v1.Test", grpc_method: method, grpc_type: type });

describeDrivers("metrics", (d) => {
  test("server and client count every call by method, code and message, and both expositions are valid", async () => {
    const client = new ClientMetrics();
    await withServer(d, makeImpl(newProbe()), { metrics: true }, async (h) => {
      const ch = h.channel({ metrics: client });
      for (let i = 0; i < 50; i++) await ch.unary(M.echo, { text: `e${i}` });
      await Promise.all(Array.from({ length: 25 }, (_, i) => ch.unary(M.echo, { text: `c${i}` })));
      for (let i = 0; i < 3; i++) expect((await caught(ch.unary(M.fail, { text: "x" }))).status).toBe(Status.INTERNAL);
      expect((await caught(ch.unary(M.fail, { text: "typed" }))).status).toBe(Status.NOT_FOUND);
      const counted: number[] = [];
      for await (const m of ch.serverStream(M.count, { n: 20 })) counted.push(m.n);
      expect(counted.length).toBe(20);
      expect(await ch.clientStream(M.sum, Array.from({ length: 30 }, (_, i) => ({ n: i })))).toEqual({ n: 435 });
      const chat: string[] = [];
      for await (const m of ch.bidi(M.chat, [{ text: "a" }, { text: "b" }])) chat.push(m.text);
      expect(chat).toEqual(["A", "B"]);
      await sleep(20);

      const f = scrape(workerMetricsReport("i1", d.name, h.server.metricsReport(), h.rt.stats()));
      const s = (name: string, labels: Record<string, string>) => sampleValue(f, name, labels);
      const echo = of("echo", "unary");
      expect(s("grpc_server_started_total", echo)).toBe(75);
      expect(s("grpc_server_handled_total", { ...echo, grpc_code: "OK" })).toBe(75);
      expect(s("grpc_server_msg_received_total", echo)).toBe(75);
      expect(s("grpc_server_msg_sent_total", echo)).toBe(75);
      expect(s("grpc_server_handling_seconds_count", echo)).toBe(75);
      // Each call took more than nothing and (on any machine this suite runs on) far less than 75 s in all.
      expect(s("grpc_server_handling_seconds_sum", echo)).toBeGreaterThan(0);
      expect(s("grpc_server_handling_seconds_sum", echo)).toBeLessThan(75);
      const fail = of("fail", "unary");
      expect(s("grpc_server_started_total", fail)).toBe(4);
      expect(s("grpc_server_handled_total", { ...fail, grpc_code: "Internal" })).toBe(3);
      expect(s("grpc_server_handled_total", { ...fail, grpc_code: "NotFound" })).toBe(1);
      expect(s("grpc_server_handled_total", { ...fail, grpc_code: "OK" })).toBe(0);
      expect(s("grpc_server_msg_sent_total", fail)).toBe(0);
      const count = of("count", "server_stream");
      expect([s("grpc_server_msg_received_total", count), s("grpc_server_msg_sent_total", count)]).toEqual([1, 20]);
      const sum = of("sum", "client_stream");
      expect([s("grpc_server_msg_received_total", sum), s("grpc_server_msg_sent_total", sum)]).toEqual([30, 1]);
      const bidi = of("chat", "bidi_stream");
      expect([s("grpc_server_msg_received_total", bidi), s("grpc_server_msg_sent_total", bidi), s("grpc_server_handled_total", { ...bidi, grpc_code: "OK" })]).toEqual([2, 2, 1]);
      expect(s("grpc_server_started_total", of("hang", "unary"))).toBe(0);
      expect(sampleValue(f, "ringrpc_server_connections_accepted_total")).toBe(1);
      expect(sampleValue(f, "ringrpc_server_connections")).toBe(1);
      const bytesIn = sampleValue(f, "ringrpc_server_received_bytes_total");
      const bytesOut = sampleValue(f, "ringrpc_server_sent_bytes_total");
      // At least a few bytes per request and per response message.
      expect(bytesIn).toBeGreaterThan(75 * 10);
      expect(bytesOut).toBeGreaterThan(75 * 10);
      expect(sampleValue(f, "ringrpc_runtime_info", { worker: "0" })).toBe(1);
      expect(f.get("ringrpc_runtime_info")!.samples[0]!.labels.driver).toBe(d.name);
      expect(sampleValue(f, "ringrpc_runtime_ring_submissions_total", { worker: "0" })).toBeGreaterThan(0);

      const cf = parseExposition(client.text());
      const c = (name: string, labels: Record<string, string>) => sampleValue(cf, name, labels);
      expect(c("grpc_client_started_total", echo)).toBe(75);
      expect(c("grpc_client_handled_total", { ...echo, grpc_code: "OK" })).toBe(75);
      expect([c("grpc_client_msg_sent_total", echo), c("grpc_client_msg_received_total", echo)]).toEqual([75, 75]);
      expect(c("grpc_client_handled_total", { ...fail, grpc_code: "Internal" })).toBe(3);
      expect(c("grpc_client_handled_total", { ...fail, grpc_code: "NotFound" })).toBe(1);
      expect([c("grpc_client_msg_sent_total", count), c("grpc_client_msg_received_total", count)]).toEqual([1, 20]);
      expect([c("grpc_client_msg_sent_total", sum), c("grpc_client_msg_received_total", sum)]).toEqual([30, 1]);
      expect(c("grpc_client_handling_seconds_count", echo)).toBe(75);
    });
  });

  test("a client call that never leaves counts as started and handled, not as a message sent", async () => {
    const client = new ClientMetrics();
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const ac = new AbortController();
      ac.abort();
      expect((await caught(h.channel({ metrics: client }).unary(M.echo, { text: "x" }, { signal: ac.signal }))).status).toBe(Status.CANCELLED);
      const f = parseExposition(client.text());
      expect(sampleValue(f, "grpc_client_started_total", of("echo", "unary"))).toBe(1);
      expect(sampleValue(f, "grpc_client_handled_total", { ...of("echo", "unary"), grpc_code: "Canceled" })).toBe(1);
      expect(sampleValue(f, "grpc_client_msg_sent_total", of("echo", "unary"))).toBe(0);
    });
  });

  test("limits and GOAWAYs are counted by name", async () => {
    await withServer(d, makeImpl(newProbe()), { metrics: true, maxMetadataBytes: 64, maxConnections: 2, maxFrameBytes: 1024 }, async (h) => {
      const ch = h.channel();
      for (let i = 0; i < 2; i++)
        expect((await caught(ch.unary(M.echo, { text: "x" }, { metadata: { "x-big": "y".repeat(100) } }))).status).toBe(Status.RESOURCE_EXHAUSTED);
      const big = await RawPeer.connect(h.rt, h.port);
      await big.send(frameBytes(HELLO));
      await big.send(new Uint8Array([0x00, 0x10, 0x00, 0x00])); // 1 MiB announced, over maxFrameBytes
      expect((await big.waitFrame(FrameType.GOAWAY))![3]).toBe(GoAwayReason.FRAME_TOO_LARGE);
      const holder = await RawPeer.connect(h.rt, h.port);
      await holder.send(frameBytes(HELLO));
      expect(await holder.waitFrame(FrameType.HELLO)).not.toBeNull();
      const third = await RawPeer.connect(h.rt, h.port);
      expect((await third.waitFrame(FrameType.GOAWAY))![3]).toBe(GoAwayReason.TOO_MANY_CONNECTIONS);
      await sleep(20);
      const f = scrape(workerMetricsReport("i1", d.name, h.server.metricsReport(), h.rt.stats()));
      expect(sampleValue(f, "ringrpc_server_frames_rejected_total", { limit: "max_metadata_bytes" })).toBe(2);
      expect(sampleValue(f, "ringrpc_server_frames_rejected_total", { limit: "max_frame_bytes" })).toBe(1);
      expect(sampleValue(f, "ringrpc_server_frames_rejected_total", { limit: "max_connections" })).toBe(1);
      expect(sampleValue(f, "ringrpc_server_frames_rejected_total", { limit: "max_concurrent_calls" })).toBe(0);
      expect(sampleValue(f, "ringrpc_server_goaways_sent_total", { reason: "FRAME_TOO_LARGE" })).toBe(1);
      expect(sampleValue(f, "ringrpc_server_goaways_sent_total", { reason: "TOO_MANY_CONNECTIONS" })).toBe(1);
      expect(sampleValue(f, "ringrpc_server_connections_refused_total")).toBe(1);
      for (const p of [big, holder, third]) await p.close();
    });
  });

  test("without metrics a server counts no calls", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      expect(await h.channel().unary(M.echo, { text: "x" })).toEqual({ text: "x" });
      expect(h.server.metricsReport().calls).toBeNull();
      expect(h.server.metricsReport().connections.accepted).toBe(1);
    });
  });
});

describe("the sum over workers", () => {
  const runtime: RuntimeStats = { steps: 10, enters: 5, submitted: 7, completed: 7 };
  function report(instance: string, started: number, open: number): WorkerMetricsReport {
    return workerMetricsReport(instance, "epoll", {
      calls: { methods: [{ service: "s.v1.S", method: "m", kind: "unary" }], bounds: [1], started: [started], handled: [started, ...Array(16).fill(0)], received: [started], sent: [started], buckets: [started, 0], sums: [started / 1000] },
      connections: { open, accepted: open, refused: 0, bytesIn: 100 * started, bytesOut: 0, goAways: {}, rejected: {} },
      memory: { limitBytes: 1000, usedBytes: 0, peakBytes: 0, pauses: 0, evictions: 0, refusedCalls: 0, garbageCollections: 0 },
    }, runtime);
  }
  const started = (f: ReturnType<typeof parseExposition>) => sampleValue(f, "grpc_server_started_total", { grpc_method: "m" });
  const text = (agg: MetricsAggregator, reports: { worker: number; data: WorkerMetricsReport }[]) =>
    parseExposition(exposition(SERVER_METRIC_FAMILIES, agg.aggregate(reports.map((r) => ({ process: 0, ...r })))));

  test("counters add up over workers and never go back when a worker restarts; gauges are only the workers that answered", () => {
    const agg = new MetricsAggregator();
    let f = text(agg, [{ worker: 0, data: report("a", 10, 3) }, { worker: 1, data: report("b", 5, 2) }]);
    expect(started(f)).toBe(15);
    expect(sampleValue(f, "ringrpc_server_connections")).toBe(5);
    expect(sampleValue(f, "ringrpc_runtime_loop_steps_total", { worker: "1" })).toBe(10);
    // Worker 1 restarted (a new instance, counting from 0); worker 0 did not answer this scrape.
    f = text(agg, [{ worker: 1, data: report("b2", 2, 1) }]);
    expect(started(f)).toBe(10 + 5 + 2);
    expect(sampleValue(f, "ringrpc_server_received_bytes_total")).toBe(100 * 17);
    expect(sampleValue(f, "ringrpc_server_connections")).toBe(1);
    expect(sampleValue(f, "ringrpc_runtime_loop_steps_total", { worker: "1" })).toBe(20);
    f = text(agg, [{ worker: 0, data: report("a", 12, 3) }, { worker: 1, data: report("b2", 4, 1) }]);
    expect(started(f)).toBe(12 + 5 + 4);
  });

  test("a worker without metrics (null report) is left out", () => {
    const f = text(new MetricsAggregator(), [{ worker: 0, data: report("a", 1, 1) }, { worker: 1, data: null as unknown as WorkerMetricsReport }]);
    expect(started(f)).toBe(1);
    expect(f.get("ringrpc_runtime_info")!.samples.map((s) => s.labels.worker)).toEqual(["0"]);
  });
});
