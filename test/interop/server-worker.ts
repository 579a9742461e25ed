/**
 * Worker entry: the interop server (test-service.ts) on its own runtime in
 * its own Bun Worker, so the client's loop and the server's each wake up
 * for the other's bytes. Driven by interop-peer.ts through
 * test/helpers/worker-peer.ts. Ops: start { driver, opts } -> { port,
 * driver }; wire -> bytes the server read and wrote so far (every
 * connection, closed ones included); log -> what the handlers observed;
 * stats -> the server's stats (open calls among them); stop -> shuts down, closes the runtime and answers with every error the
 * serve loop or the shutdown raised.
 */
import { createRpcServer, type RpcServer, type ServerOptions } from "../../src/rpc/server.ts";
import { createRuntimeFor } from "../../src/runtime/select.ts";
import type { DriverName, Listener, Runtime } from "../../src/runtime/types.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { answerParent } from "../helpers/worker-peer.ts";
import { interopBinding, type ServiceLog } from "./test-service.ts";

export interface WireBytes {
  bytesIn: number;
  bytesOut: number;
}

const log: ServiceLog = { aborts: [] };
const errors: string[] = [];
const describeError = (where: string) => (e: unknown) => {
  errors.push(`${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
};
let rt: Runtime | null = null;
let server: RpcServer | null = null;
let listener: Listener | null = null;
let serving: Promise<void> = Promise.resolve();

answerParent({
  async start(arg) {
    const { driver, opts } = arg as { driver: DriverName; opts: ServerOptions };
    rt = await createRuntimeFor(driver);
    // The statuses the cases ask for (UNKNOWN among them) are logged as handler failures: to memory, not the test output.
    server = createRpcServer(rt, [interopBinding(log)], { logger: recordingLogger(), ...opts });
    listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    serving = server.serve(listener).catch(describeError("serve"));
    return { port: listener.port, driver: rt.driver };
  },
  wire(): WireBytes {
    const c = server!.metricsReport().connections;
    return { bytesIn: c.bytesIn, bytesOut: c.bytesOut };
  },
  log: () => log,
  stats: () => server!.stats(),
  async stop() {
    try {
      await server?.shutdown(100).catch(describeError("shutdown"));
      await listener?.close().catch(describeError("listener.close"));
      await serving;
    } finally {
      await rt?.close();
    }
    return errors;
  },
});
