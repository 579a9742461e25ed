/**
 * The interop suite's set-up for one driver: the interop server in another
 * Worker (server-worker.ts) on that driver, and on the client's own runtime
 * (same driver) the three channels the cases call through: `plain` (no
 * compression), `gzip` and `zstd` (zstd preferred, gzip where this Bun has
 * no zstd). Every channel and the server accept frames up to 16 MiB (the
 * very_large_* cases). close() shuts everything down and throws with every
 * error the server or the clean-up raised.
 */
import type { CompressionOptions } from "../../src/rpc/compression.ts";
import { availableAlgorithms, zstdAvailable } from "../../src/rpc/compression.ts";
import { createChannel, type Channel } from "../../src/rpc/client.ts";
import type { ServerStats } from "../../src/rpc/server.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { startWorkerPeer, type WorkerPeer } from "../helpers/worker-peer.ts";
import type { DriverCase } from "../rpc/helpers/drivers.ts";
import { TestServiceClient, UnimplementedServiceClient } from "./gen/test.ts";
import type { WireBytes } from "./server-worker.ts";
import type { ServiceLog } from "./test-service.ts";

/** The largest frame either side accepts: above gRPC's 10 MiB very_large_* messages. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const GZIP: CompressionOptions = { algorithms: ["gzip"] };
const ZSTD: CompressionOptions = { algorithms: zstdAvailable() ? ["zstd", "gzip"] : ["gzip"] };

/** The algorithm the `zstd` channel ends up using here. */
export const STREAM_ALGORITHM = zstdAvailable() ? "zstd" : "gzip (this Bun has no built-in zstd)";

export interface InteropClients {
  plain: TestServiceClient;
  gzip: TestServiceClient;
  zstd: TestServiceClient;
  unimplementedService: UnimplementedServiceClient;
}

export interface InteropPeer {
  clients: InteropClients;
  rt: Runtime;
  /** Bytes the server has read and written so far, over every connection. */
  wire(): Promise<WireBytes>;
  log(): Promise<ServiceLog>;
  serverStats(): Promise<ServerStats>;
  close(): Promise<void>;
}

export async function startInterop(driver: DriverCase): Promise<InteropPeer> {
  const { peer, started } = await startWorkerPeer<{ port: number; driver: string }>(new URL("./server-worker.ts", import.meta.url), {
    driver: driver.name,
    opts: { compression: { algorithms: availableAlgorithms() }, maxFrameBytes: MAX_FRAME_BYTES },
  });
  let rt: Runtime;
  try {
    if (started.driver !== driver.name) throw new Error(`the server runs on ${started.driver}, not ${driver.name}`);
    rt = await driver.make();
  } catch (e) {
    await peer.stop();
    throw e;
  }
  const channels: Channel[] = [];
  const channel = (compression?: CompressionOptions) => {
    const opts = { endpoints: [{ host: "127.0.0.1", port: started.port }], maxFrameBytes: MAX_FRAME_BYTES };
    const ch = createChannel(rt, compression === undefined ? opts : { ...opts, compression });
    channels.push(ch);
    return ch;
  };
  const plain = channel();
  return {
    rt,
    clients: {
      plain: new TestServiceClient(plain),
      gzip: new TestServiceClient(channel(GZIP)),
      zstd: new TestServiceClient(channel(ZSTD)),
      unimplementedService: new UnimplementedServiceClient(plain),
    },
    wire: () => peer.call<WireBytes>("wire"),
    log: () => peer.call<ServiceLog>("log"),
    serverStats: () => peer.call<ServerStats>("stats"),
    close: () => closeAll(peer, channels, rt),
  };
}

async function closeAll(peer: WorkerPeer, channels: Channel[], rt: Runtime): Promise<void> {
  const errors: string[] = [];
  const record = (where: string) => (e: unknown) => {
    errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  };
  for (const ch of channels) await ch.close().catch(record("channel.close"));
  await rt.close().catch(record("runtime.close"));
  errors.push(...(await peer.stop<string[]>()).map((e) => `server worker: ${e}`));
  if (errors.length > 0) throw new Error(`interop clean-up failed:\n${errors.join("\n")}`);
}
