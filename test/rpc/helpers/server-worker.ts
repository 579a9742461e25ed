/**
 * Worker entry: the RPC test server (TestService with makeImpl) on its own
 * runtime in its own Bun Worker, driven by test/rpc/helpers/harness.ts's
 * withWorkerServer through test/helpers/worker-peer.ts. Ops: start
 * { driver, opts } -> { port, driver }; probe -> the impl's Probe; stats ->
 * the server's stats; stop -> shuts down, closes the runtime and answers
 * with every error the serve loop or the shutdown raised.
 */
import { createRpcServer, type RpcServer, type ServerOptions } from "../../../src/rpc/server.ts";
import { createRuntimeFor } from "../../../src/runtime/select.ts";
import type { DriverName, Listener, Runtime } from "../../../src/runtime/types.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";
import { answerParent } from "../../helpers/worker-peer.ts";
import { makeImpl, newProbe } from "../service-impl.ts";
import { TestService } from "./fixtures.ts";

const probe = newProbe();
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
    // The failures tests cause on purpose are logged to memory, not to the test output.
    server = createRpcServer(rt, [{ descriptor: TestService, impl: makeImpl(probe), validate: true }], { logger: recordingLogger(), ...opts });
    listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    serving = server.serve(listener).catch(describeError("serve"));
    return { port: listener.port, driver: rt.driver };
  },
  probe: () => probe,
  stats: () => server?.stats(),
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
