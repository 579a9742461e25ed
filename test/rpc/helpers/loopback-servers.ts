/**
 * Several test servers on one runtime, one per loopback address (127.0.0.2,
 * 127.0.0.3, ... need no set-up on Linux) and all on the same port, as the
 * addresses behind one DNS name are: each with the test service, its own
 * probe counters and a health service the test can turn NOT_SERVING. Stops
 * them all and reports what their serve loops raised.
 */
import type { ServerInterceptor } from "../../../src/rpc/interceptors.ts";
import { type RpcServer, createRpcServer, type ServerOptions } from "../../../src/rpc/server.ts";
import { RpcError, Status } from "../../../src/rpc/status.ts";
import { HealthService } from "../../../src/services/health.ts";
import type { Listener, Runtime } from "../../../src/runtime/types.ts";
import { TestService } from "./fixtures.ts";
import { recordInto } from "./harness.ts";
import { makeImpl, newProbe } from "../service-impl.ts";

export interface LoopbackServer {
  readonly host: string;
  readonly port: number;
  readonly server: RpcServer;
  readonly health: HealthService;
  /** Calls the server has run so far. */
  calls(): number;
  /** While true every call of the test service answers STATUS UNAVAILABLE. */
  unavailable: boolean;
  /** Graceful shutdown (GOAWAY; open calls get graceMs); the port is free afterwards. */
  stop(graceMs?: number): Promise<void>;
  readonly stopped: boolean;
}

/** Starts the same server on `host` and `port` again (after stop()). */
export async function startOn(rt: Runtime, host: string, port: number, errors: string[], opts: ServerOptions = {}): Promise<LoopbackServer> {
  const health = new HealthService([TestService.name]);
  const sw = { unavailable: false };
  const failing: ServerInterceptor = (call, next) => {
    if (sw.unavailable && call.method.service === TestService.name) throw new RpcError(Status.UNAVAILABLE, `${host}: backend gone (test switch)`);
    return next(call);
  };
  const server = createRpcServer(rt, [{ descriptor: TestService, impl: makeImpl(newProbe()), validate: true }, health.binding()], {
    ...opts,
    interceptors: [failing, ...(opts.interceptors ?? [])],
  });
  const listener: Listener = await rt.listen({ host, port, reusePort: false });
  const serving = server.serve(listener).catch(recordInto(errors, `serve ${host}`));
  let stopped = false;
  return {
    host,
    port: listener.port,
    server,
    health,
    calls: () => server.stats().totalCalls,
    get unavailable() {
      return sw.unavailable;
    },
    set unavailable(v: boolean) {
      sw.unavailable = v;
    },
    get stopped() {
      return stopped;
    },
    async stop(graceMs = 100) {
      if (stopped) return;
      stopped = true;
      health.drain();
      await server.shutdown(graceMs);
      await listener.close();
      await serving;
    },
  };
}

/** One server per host, all on one port (a free one, found by the first host). */
export async function startLoopbackServers(rt: Runtime, hosts: readonly string[], errors: string[], opts: ServerOptions = {}): Promise<LoopbackServer[]> {
  for (let attempt = 0; ; attempt++) {
    const first = await startOn(rt, hosts[0]!, 0, errors, opts);
    const out = [first];
    try {
      for (const h of hosts.slice(1)) out.push(await startOn(rt, h, first.port, errors, opts));
      return out;
    } catch (e) {
      for (const s of out) await s.stop(0);
      // The port was free on the first address only: take another.
      if (attempt >= 3) throw e;
    }
  }
}
