/**
 * Benchmark rpc/unary-echo/compression: throughput and bytes on the wire of
 * a Blob echo (blob-service.ts) for 1 KiB, 16 KiB, 256 KiB and 1 MiB
 * payloads, compressible and random, with compression off, gzip and zstd on
 * both sides. The server is another process (server.ts; pinned with
 * `--server-cpu`); this process is the client (pin it with taskset). Calls
 * are a closed loop of `--depth` in flight on one connection for
 * `--duration` seconds after a warm-up. Bytes on the wire per call are the
 * REQUEST and the answer frames exactly as the frame writers produce them
 * with the negotiated compressor.
 *   taskset -c 1 bun bench/compression/run.ts [--port 23100] [--server-cpu 0] [--duration 2] [--depth 4]
 * Prints one markdown table; not a test.
 */
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { type CompressionAlgorithm, MessageCompressor, ALGORITHM_IDS, zstdAvailable } from "../../src/rpc/compression.ts";
import { writeRequest, writeResponse } from "../../src/rpc/frames.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { type Blob, Blobs, BlobType, compressible, random } from "./blob-service.ts";

const args = parseArgs(process.argv.slice(2), { values: ["port", "server-cpu", "duration", "depth", "warmup"], booleans: [] });
const port = intFlag(args, "port", 23100, 1, 65535);
const serverCpu = intFlag(args, "server-cpu", 0, 0, 1023);
const durationMs = Number(args.flags.get("duration") ?? "2") * 1000;
const warmupMs = Number(args.flags.get("warmup") ?? "0.5") * 1000;
const depth = intFlag(args, "depth", 4, 1, 1024);

const SIZES = [1024, 16 * 1024, 256 * 1024, 1024 * 1024];
const MODES: ("off" | CompressionAlgorithm)[] = zstdAvailable() ? ["off", "gzip", "zstd"] : ["off", "gzip"];

/** Frame bytes of one call both ways, as written with compressor `c` (the default minBytes, 1024). */
function wireBytes(data: Uint8Array, c: MessageCompressor | null): number {
  const w = new MsgWriter(data.length + 1024);
  writeRequest(w, 1, Blobs.echo.path, undefined, undefined, 3, BlobType, { data }, 1 << 30, c);
  writeResponse(w, 1, BlobType, { data }, 1 << 30, c);
  return w.pos;
}

async function startServer(mode: string): Promise<Bun.Subprocess> {
  const proc = Bun.spawn(["taskset", "-c", String(serverCpu), process.execPath, new URL("./server.ts", import.meta.url).pathname, "--port", String(port), "--compression", mode], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench server exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return proc;
}

async function measure(mode: "off" | CompressionAlgorithm, payload: Uint8Array): Promise<{ callsPerSec: number; mibPerSec: number }> {
  const server = await startServer(mode);
  const { runtime } = await createRuntime({ driver: "uring" });
  const compression = mode === "off" ? {} : { compression: { algorithms: [mode] } };
  const ch = createChannel(runtime, { endpoints: [{ host: "127.0.0.1", port }], ...compression, maxFrameBytes: 8 * 1024 * 1024 });
  try {
    const req: Blob = { data: payload };
    let calls = 0;
    let counting = false;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        await ch.unary(Blobs.echo, req);
        if (counting) calls++;
      }
    };
    const loops = Array.from({ length: depth }, loop);
    await Bun.sleep(warmupMs);
    counting = true;
    const t0 = performance.now();
    await Bun.sleep(durationMs);
    const secs = (performance.now() - t0) / 1000;
    const done = calls;
    stop = true;
    await Promise.all(loops);
    return { callsPerSec: done / secs, mibPerSec: (done * payload.length) / secs / (1024 * 1024) };
  } finally {
    await ch.close();
    await runtime.close();
    server.kill();
    await server.exited;
  }
}

function label(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

console.log(`| payload | data | compression | calls/s | payload MiB/s (each way) | wire bytes per call (both ways) | x off |`);
console.log(`|---|---|---|---:|---:|---:|---:|`);
for (const size of SIZES) {
  for (const kind of ["compressible", "random"] as const) {
    const payload = kind === "compressible" ? compressible(size) : random(size);
    let offBytes = 0;
    for (const mode of MODES) {
      const c = mode === "off" ? null : new MessageCompressor(ALGORITHM_IDS[mode], 1024);
      const bytes = wireBytes(payload, c);
      if (mode === "off") offBytes = bytes;
      const r = await measure(mode, payload);
      console.log(`| ${label(size)} | ${kind} | ${mode} | ${Math.round(r.callsPerSec)} | ${r.mibPerSec.toFixed(1)} | ${bytes} | ${(bytes / offBytes).toFixed(3)} |`);
    }
  }
}
