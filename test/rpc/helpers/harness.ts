/**
 * Starts an RPC server on 127.0.0.1 (ephemeral port) with the test service
 * and hands the body a channel factory; always shuts everything down.
 */
import { createChannel, type Channel, type ChannelOptions } from "../../../src/rpc/client.ts";
import type { ServiceBinding } from "../../../src/rpc/descriptor.ts";
import { createRpcServer, type RpcServer, type ServerOptions } from "../../../src/rpc/server.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import type { DriverCase } from "./drivers.ts";
import { TestService } from "./fixtures.ts";

export interface Harness {
  rt: Runtime;
  server: RpcServer;
  port: number;
  channel(opts?: Partial<ChannelOptions>): Channel;
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
  let server: RpcServer | null = null;
  try {
    server = createRpcServer(rt, [{ descriptor: TestService, impl, validate: true }, ...bindings], serverOpts);
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const serving = server.serve(listener).catch(() => {});
    const port = listener.port;
    const s = server;
    await body({
      rt,
      server: s,
      port,
      channel(opts = {}) {
        const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port }], ...opts });
        channels.push(ch);
        return ch;
      },
    });
    for (const ch of channels) await ch.close();
    await server.shutdown(100);
    await listener.close().catch(() => {});
    await serving;
  } finally {
    for (const ch of channels) await ch.close().catch(() => {});
    await rt.close();
  }
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
