/**
 * The measured side of bench/client-profile: one Bun process running the
 * generated bench.v1.Bench client (createChannel over RINGRPC_DRIVER's runtime)
 * against a running bench server, `depth` echo calls kept in flight on one
 * connection with a 64-byte payload (what `bench/loadgen --mode rpc --method
 * echo --size 64` sends). Prints one JSON line with calls/s and the client's
 * CPU share. With --allocs N it makes N calls between two stderr markers
 * instead, with a full collection before the first and after the second:
 * run it under BUN_JSC_logGC=1 (and BUN_JSC_useConcurrentGC=0, so each
 * collection's before/after sizes are exact) and run.ts adds up the heap
 * growth between collections. Owns no server and no comparison.
 *   bun bench/client-profile/client.ts --port P [--depth 32] [--duration 2] [--warmup 0.3] [--size 64] [--allocs N]
 */
import { BenchClient } from "../gen/bench.ts";
import { intFlag, parseArgs, UsageError } from "../../src/cli/args.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { ALLOC_END, ALLOC_START } from "./gc-log.ts";


function seconds(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`a duration must be a positive number of seconds (got "${v}")`);
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { values: ["port", "depth", "duration", "warmup", "size", "allocs", "host"] });
  const port = intFlag(args, "port", 0, 1, 65535);
  const depth = intFlag(args, "depth", 32, 1, 4096);
  const size = intFlag(args, "size", 64, 0, 1 << 20);
  const durationS = seconds(args.flags.get("duration"), 2);
  const warmupS = seconds(args.flags.get("warmup"), 0.3);
  const allocCalls = intFlag(args, "allocs", 0, 0, 100_000_000);

  const { runtime: rt } = await createRuntime();
  const ch = createChannel(rt, { endpoints: [{ host: args.flags.get("host") ?? "127.0.0.1", port }] });
  const client = new BenchClient(ch);
  const req = { data: new Uint8Array(size).fill(0x61) };
  let calls = 0;
  let stopAt = 0;

  /** One of `depth` closed loops: the next call starts when the previous reply is in. */
  const timed = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const r = await client.echo(req);
      if (r.data.length !== size) throw new Error(`echo returned ${r.data.length} bytes, sent ${size}`);
      calls++;
    }
  };
  /** `total` calls at `depth` in flight, with no clock read in the loop. */
  const counted = async (total: number): Promise<void> => {
    let left = total;
    const one = async (): Promise<void> => {
      while (left > 0) {
        left--;
        await client.echo(req);
      }
    };
    await Promise.all(Array.from({ length: depth }, one));
  };

  if (allocCalls > 0) {
    await counted(50_000); // JIT and connection warm
    Bun.gc(true);
    console.error(ALLOC_START);
    const t0 = performance.now();
    await counted(allocCalls);
    const secs = (performance.now() - t0) / 1000;
    console.error(ALLOC_END);
    Bun.gc(true); // its START line gives the heap size the calls left behind
    console.log(JSON.stringify({ driver: rt.driver, depth, calls: allocCalls, rps: Math.round(allocCalls / secs) }));
  } else {
    stopAt = performance.now() + warmupS * 1000;
    await Promise.all(Array.from({ length: depth }, timed));
    calls = 0;
    const t0 = performance.now();
    stopAt = t0 + durationS * 1000;
    const cpu0 = process.cpuUsage();
    const st0 = rt.stats();
    await Promise.all(Array.from({ length: depth }, timed));
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const st = rt.stats();
    const per = (a: number, b: number): number | null => (a < 0 || b <= a ? null : +(calls / (b - a)).toFixed(2));
    console.log(
      JSON.stringify({
        driver: rt.driver,
        depth,
        calls,
        rps: Math.round(calls / secs),
        cpu_pct: Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100),
        sys_pct: Math.round((cpu.system / 1e6 / secs) * 100),
        // Runtime counters (uring: loop steps, io_uring_enter calls, completions): how many calls each one carries.
        calls_per_step: per(st0.steps, st.steps),
        calls_per_enter: per(st0.enters, st.enters),
        calls_per_completion: per(st0.completed, st.completed),
        // uring: the wake mode its startup self-test chose ("poll" = idle sleeps bounded by a 1 ms timer).
        wake: st.wake === undefined ? null : `${st.wake.ringMode}/${st.wake.wakeMode}`,
      }),
    );
  }
  await ch.close();
  await rt.close();
}

await main();
process.exit(0);
