/**
 * Worker entry: the RPC test server (TestService with makeImpl) on its own
 * runtime in its own Bun Worker, driven by test/rpc/helpers/harness.ts's
 * withWorkerServer through test/helpers/worker-peer.ts. Ops (besides
 * served-worker.ts's start, stats and stop): probe -> the impl's Probe.
 */
import { serveInWorker } from "../../helpers/served-worker.ts";
import { makeImpl, newProbe } from "../service-impl.ts";
import { TestService } from "./fixtures.ts";

const probe = newProbe();
serveInWorker([{ descriptor: TestService, impl: makeImpl(probe), validate: true }], { probe: () => probe });
