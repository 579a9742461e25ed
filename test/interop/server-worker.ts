/**
 * Worker entry: the interop server (test-service.ts) on its own runtime in
 * its own Bun Worker, so the client's loop and the server's each wake up
 * for the other's bytes. Driven by interop-peer.ts through
 * test/helpers/worker-peer.ts. Ops: start { driver, opts } -> { port,
 * driver }; wire -> bytes the server read and wrote so far (every
 * connection, closed ones included); log -> what the handlers observed;
 * stats (served-worker.ts, with start and stop) -> the server's stats, open
 * calls among them.
 */
import { serveInWorker } from "../helpers/served-worker.ts";
import { interopBinding, type ServiceLog } from "./test-service.ts";

export interface WireBytes {
  bytesIn: number;
  bytesOut: number;
}

const log: ServiceLog = { aborts: [] };
// The statuses the cases ask for (UNKNOWN among them) are logged as handler failures: to memory, not the test output.
const served = serveInWorker([interopBinding(log)], {
  wire(): WireBytes {
    const c = served.server!.metricsReport().connections;
    return { bytesIn: c.bytesIn, bytesOut: c.bytesOut };
  },
  log: () => log,
});
