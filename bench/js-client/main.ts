/**
 * The JS load client: ringrpc's own client (createChannel + the generated
 * BenchClient) as a load generator, so the benchmark measures the client
 * path too. One process, the driver chosen by RINGRPC_DRIVER (uring|epoll),
 * pinned by whoever starts it (the matrix uses `taskset -c <loadgen CPU>`).
 * Closed loop: each of --conns connections keeps --depth calls in flight;
 * warm-up, then a measured window. Prints one JSON line in the shape
 * bench/loadgen prints (plus "tool":"js-client" and the driver that ran), so
 * the matrix reads both the same way. Prints "measuring" on stderr when its
 * measured window begins.
 *   RINGRPC_DRIVER=uring bun bench/js-client/main.ts --port P [--conns 1]
 *     [--depth 1] [--method echo] [--size 64] [--duration 5] [--warmup 1] [--cpu N]
 */
import { createChannel, type Channel } from "../../src/rpc/client.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { WINDOW_MARKER } from "../echo/loadgen-client.ts";
import { BenchClient } from "../gen/bench.ts";
import { JS_CLIENT_METHODS, methodCall, type JsClientMethod } from "./call-fixtures.ts";
import { LatencySamples } from "./latency-samples.ts";

const CONNECT_TIMEOUT_MS = 5000;
/** After the window ends, how long the last in-flight calls may take before the run counts as failed. */
const DRAIN_LIMIT_MS = 5000;

interface Options {
  host: string;
  port: number;
  conns: number;
  depth: number;
  method: JsClientMethod;
  size: number;
  durationS: number;
  warmupS: number;
  cpu: number;
}

function usage(why: string): never {
  console.error(`js-client: ${why}\nusage: RINGRPC_DRIVER=uring|epoll bun bench/js-client/main.ts --port P [--host 127.0.0.1] [--conns 1] [--depth 1] [--method ${JS_CLIENT_METHODS.join("|")}] [--size 64] [--duration 5] [--warmup 1] [--cpu N]`);
  process.exit(2);
}

function parse(argv: readonly string[]): Options {
  const o: Options = { host: "127.0.0.1", port: 0, conns: 1, depth: 1, method: "echo", size: 64, durationS: 5, warmupS: 1, cpu: -1 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const raw = argv[i + 1];
    if (raw === undefined) usage(`${flag} needs a value`);
    const n = Number(raw);
    const int = (min: number, max: number): number => (Number.isInteger(n) && n >= min && n <= max ? n : usage(`${flag} must be an integer in [${min}, ${max}], got '${raw}'`));
    const real = (min: number): number => (Number.isFinite(n) && n >= min ? n : usage(`${flag} must be a number >= ${min}, got '${raw}'`));
    switch (flag) {
      case "--host": o.host = raw; break;
      case "--port": o.port = int(1, 65535); break;
      case "--conns": o.conns = int(1, 1024); break;
      case "--depth": o.depth = int(1, 4096); break;
      case "--size": o.size = int(1, 65000); break;
      case "--duration": o.durationS = real(0.01); break;
      case "--warmup": o.warmupS = real(0); break;
      case "--cpu": o.cpu = int(-1, 4096); break;
      case "--method": o.method = JS_CLIENT_METHODS.find((m) => m === raw) ?? usage(`--method must be one of ${JS_CLIENT_METHODS.join("|")}, got '${raw}'`); break;
      default: usage(`unknown option '${flag}'`);
    }
  }
  if (o.port === 0) usage("--port is required");
  return o;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const enum Phase { Warmup, Measure, Stop }

async function main(): Promise<number> {
  const o = parse(Bun.argv.slice(2));
  const { runtime: rt, choice } = await createRuntime();
  const channels: Channel[] = Array.from({ length: o.conns }, () => createChannel(rt, { endpoints: [{ host: o.host, port: o.port }], connectTimeoutMs: CONNECT_TIMEOUT_MS }));
  const clients = channels.map((ch) => new BenchClient(ch));
  const samples = new LatencySamples();
  let errors = 0;
  let firstError: string | null = null;
  const fail = (e: unknown): void => {
    errors++;
    const err = e as { code?: string; message?: string };
    firstError ??= `${err.code ?? "Error"}: ${err.message ?? String(e)}`;
  };

  let phase = Phase.Warmup;
  let t0 = 0;
  let t1 = 0;
  let cpu0 = process.cpuUsage();
  let cpu1 = cpu0;
  // One call per connection first, so connecting and HELLO are not in the measurement.
  await Promise.all(clients.map((c, i) => methodCall(c, o.method, o.size, i)(0).catch(fail)));
  const loops = errors > 0 ? [] : clients.flatMap((client, c) => Array.from({ length: o.depth }, async (_, d) => {
    const call = methodCall(client, o.method, o.size, c * o.depth + d);
    for (let seq = 1; phase !== Phase.Stop; seq++) {
      const start = performance.now();
      try {
        await call(seq);
      } catch (e) {
        fail(e);
        return;
      }
      if (phase === Phase.Measure) samples.record((performance.now() - start) * 1000);
    }
  }));
  if (loops.length > 0) {
    await Bun.sleep(o.warmupS * 1000);
    samples.clear();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    phase = Phase.Measure;
    console.error(WINDOW_MARKER); // the runner starts its server-CPU window here
    await Bun.sleep(o.durationS * 1000);
    phase = Phase.Stop;
    t1 = performance.now();
    cpu1 = process.cpuUsage();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      Promise.all(loops).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    if (!drained) fail(new Error(`calls still in flight ${DRAIN_LIMIT_MS} ms after the window ended`));
  }

  const elapsedS = (t1 - t0) / 1000;
  const cpuS = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
  const report = {
    tool: "js-client", mode: "rpc", method: o.method, driver: choice.driver, host: o.host, port: o.port,
    conns: o.conns, size: o.size, depth: o.depth, rate: 0, cpu: o.cpu,
    duration_s: o.durationS, warmup_s: o.warmupS, elapsed_s: round(elapsedS, 3),
    requests: samples.count, rps: round(elapsedS > 0 ? samples.count / elapsedS : 0, 1),
    latency_us: Object.fromEntries(Object.entries(samples.summary()).map(([k, v]) => [k, round(v, 2)])),
    loadgen_cpu_pct: round(elapsedS > 0 ? (cpuS / elapsedS) * 100 : 0, 1),
    errors, error: firstError,
  };
  console.log(JSON.stringify(report));
  await Promise.race([Promise.all(channels.map((c) => c.close())).then(() => rt.close()), Bun.sleep(2000)]);
  return errors > 0 ? 1 : 0;
}

process.exit(await main());
