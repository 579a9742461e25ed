/**
 * Worker entry: the driver suite's echo server (helpers/echo-server.ts) on
 * its own runtime in its own Bun Worker, so the client under test and the
 * server sit on different rings and threads. Ops (test/helpers/worker-peer.ts):
 * start { driver, mode } -> { port, driver }; stop -> closes the server and
 * the runtime, answers { accepted, errors } with errors as text.
 */
import { createRuntimeFor } from "../../../src/runtime/select.ts";
import type { DriverName, Runtime } from "../../../src/runtime/types.ts";
import { answerParent } from "../../helpers/worker-peer.ts";
import { type EchoMode, type EchoServer, startEchoServer } from "./echo-server.ts";

let rt: Runtime | null = null;
let server: EchoServer | null = null;

answerParent({
  async start(arg) {
    const { driver, mode } = arg as { driver: DriverName; mode: EchoMode };
    rt = await createRuntimeFor(driver);
    server = await startEchoServer(rt, mode);
    return { port: server.port, driver: rt.driver };
  },
  async stop() {
    try {
      await server?.stop();
    } finally {
      await rt?.close();
    }
    return {
      accepted: server?.accepted ?? 0,
      errors: (server?.errors ?? []).map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))),
    };
  },
});
