/**
 * Starts an RPC server on 127.0.0.1 (ephemeral port) with the test service
 * and hands the body a channel factory; always shuts everything down and
 * fails the test with every error the serve loop or the clean-up raised.
 * Two placements of the server: withServer puts it on the client's own
 * runtime (one ring, one thread); withWorkerServer puts it in another Bun
 * Worker with its own runtime, so both loops must wake up when the other
 * side's bytes arrive (test/rpc/helpers/server-worker.ts).
 */
import { expect } from "bun:test";
import { createChannel, type Channel, type ChannelOptions } from "../../../src/rpc/client.ts";
import type { ServiceBinding } from "../../../src/rpc/descriptor.ts";
import { createRpcServer, type RpcServer, type ServerOptions, type ServerStats } from "../../../src/rpc/server.ts";
import type { DriverName, Runtime } from "../../../src/runtime/types.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";
import { startWorkerPeer } from "../../helpers/worker-peer.ts";
import type { Probe } from "../service-impl.ts";
import type { DriverCase } from "./drivers.ts";
import { TestService } from "./fixtures.ts";

export interface Harness {
  rt: Runtime;
  server: RpcServer;
  port: number;
  channel(opts?: Partial<ChannelOptions>): Channel;
}

/** What a call case needs from its server wherever that server runs. */
export interface PeerHarness {
  /** The client's runtime. */
  rt: Runtime;
  port: number;
  channel(opts?: Partial<ChannelOptions>): Channel;
  /** The server impl's counters (service-impl.ts). */
  probe(): Promise<Probe>;
  serverStats(): Promise<ServerStats>;
}

/** An error handler that records `where: message` into `errors`. */
export function recordInto(errors: string[], where: string): (e: unknown) => void {
  return (e) => {
    errors.push(`${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
}

export async function withServer(
  driver: DriverCase,
  impl: object,
  serverOpts: ServerOptions,
  body: (h: Harness) => Promise<void>,
  bindings: ServiceBinding[] = [],
): Promise<void> {
  const rt = await driver.make();
  const channels: Channel[] = [];
  const errors: string[] = [];
  try {
    // The failures tests cause on purpose are logged to memory, not to the test output (a test may pass its own logger).
    const server = createRpcServer(rt, [{ descriptor: TestService, impl, validate: true }, ...bindings], { logger: recordingLogger(), ...serverOpts });
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const serving = server.serve(listener).catch(recordInto(errors, "serve"));
    const port = listener.port;
    await body({
      rt,
      server,
      port,
      channel(opts = {}) {
        const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port }], ...opts });
        channels.push(ch);
        return ch;
      },
    });
    for (const ch of channels.splice(0)) await ch.close();
    await server.shutdown(100);
    await listener.close();
    await serving;
  } finally {
    for (const ch of channels) await ch.close().catch(recordInto(errors, "channel.close"));
    await rt.close();
  }
  expect(errors).toEqual([]);
}

/**
 * Runs body with the test service (makeImpl) served from another Worker on
 * `serverDriver`, and the client on `client`'s runtime in this thread.
 */
export async function withWorkerServer(
  client: DriverCase,
  serverDriver: DriverName,
  serverOpts: ServerOptions,
  body: (h: PeerHarness) => Promise<void>,
): Promise<void> {
  const { peer, started } = await startWorkerPeer<{ port: number; driver: DriverName }>(new URL("./server-worker.ts", import.meta.url), {
    driver: serverDriver,
    opts: serverOpts,
  });
  expect(started.driver).toBe(serverDriver);
  const errors: string[] = [];
  const channels: Channel[] = [];
  let rt: Runtime | null = null;
  try {
    rt = await client.make();
    const clientRt = rt;
    await body({
      rt: clientRt,
      port: started.port,
      channel(opts = {}) {
        const ch = createChannel(clientRt, { endpoints: [{ host: "127.0.0.1", port: started.port }], ...opts });
        channels.push(ch);
        return ch;
      },
      probe: () => peer.call<Probe>("probe"),
      serverStats: () => peer.call<ServerStats>("stats"),
    });
    for (const ch of channels.splice(0)) await ch.close();
  } finally {
    for (const ch of channels) await ch.close().catch(recordInto(errors, "channel.close"));
    await rt?.close();
    errors.push(...(await peer.stop<string[]>()).map((e) => `server worker: ${e}`));
  }
  expect(errors).toEqual([]);
}

/** Resolves after ms (Bun timer, independent of the runtime under test). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls cond every 2 ms until it holds or timeoutMs passes; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(2);
  }
  return true;
}
