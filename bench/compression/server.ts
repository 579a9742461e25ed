/**
 * The compression bench's server: the Blob service (blob-service.ts) on one
 * runtime in this process, with per-message compression off, gzip or zstd.
 *   bun bench/compression/server.ts --port P --compression off|gzip|zstd [--driver uring|epoll]
 * Prints `listening on 127.0.0.1:P driver=<d> compression=<c>` once ready;
 * runs until killed.
 */
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import type { CompressionOptions } from "../../src/rpc/compression.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import type { DriverRequest } from "../../src/runtime/select.ts";
import { blobBinding } from "./blob-service.ts";

const args = parseArgs(process.argv.slice(2), { values: ["port", "compression", "driver"], booleans: [] });
const mode = args.flags.get("compression") ?? "off";
const compression: { compression?: CompressionOptions } = mode === "off" ? {} : { compression: { algorithms: [mode as "gzip" | "zstd"] } };
const { runtime, choice } = await createRuntime({ driver: (args.flags.get("driver") ?? "uring") as DriverRequest });
const server = createRpcServer(runtime, [blobBinding], { ...compression, maxFrameBytes: 8 * 1024 * 1024 });
const listener = await runtime.listen({ host: "127.0.0.1", port: intFlag(args, "port", 7300, 0, 65535), reusePort: false });
console.log(`listening on 127.0.0.1:${listener.port} driver=${choice.driver} compression=${mode}`);
await server.serve(listener);
