/**
 * What every "server in its own Bun Worker" test entry shares, on top of
 * worker-peer.ts's answerParent: the ops start { driver, opts } -> { port,
 * driver } (the entry's services on a new runtime of that driver, listening
 * on 127.0.0.1), stats -> server.stats(), and stop -> shuts down, closes the
 * runtime and answers with every error the serve loop or the shutdown
 * raised; plus the entry's own ops, which reach the server through the
 * returned handle. Failures the tests cause on purpose are logged to memory
 * (recording-logger.ts) unless the test's options name a logger.
 */
import type { ServiceBinding } from "../../src/rpc/descriptor.ts";
import { createRpcServer, type RpcServer, type ServerOptions } from "../../src/rpc/server.ts";
import { createRuntimeFor } from "../../src/runtime/select.ts";
import type { DriverName, Listener, Runtime } from "../../src/runtime/types.ts";
import { recordingLogger } from "./recording-logger.ts";
import { answerParent } from "./worker-peer.ts";

export interface ServedWorker {
  /** The server, once "start" has run. */
  readonly server: RpcServer | null;
}

export function serveInWorker(bindings: ServiceBinding[], ops: Record<string, (arg: unknown) => unknown> = {}): ServedWorker {
  const errors: string[] = [];
  const record = (where: string) => (e: unknown) => {
    errors.push(`${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
  let rt: Runtime | null = null;
  let server: RpcServer | null = null;
  let listener: Listener | null = null;
  let serving: Promise<void> = Promise.resolve();
  answerParent({
    ...ops,
    async start(arg) {
      const { driver, opts } = arg as { driver: DriverName; opts: ServerOptions };
      rt = await createRuntimeFor(driver);
      server = createRpcServer(rt, bindings, { logger: recordingLogger(), ...opts });
      listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
      serving = server.serve(listener).catch(record("serve"));
      return { port: listener.port, driver: rt.driver };
    },
    stats: () => server?.stats(),
    async stop() {
      try {
        await server?.shutdown(100).catch(record("shutdown"));
        await listener?.close().catch(record("listener.close"));
        await serving;
      } finally {
        await rt?.close();
      }
      return errors;
    },
  });
  return {
    get server() {
      return server;
    },
  };
}
