/**
 * The health service (ringrpc.health.v1.Health, src/services/health.ridl):
 * one worker's serving status of the server as a whole ("") and of each
 * service, answered by `check` and streamed by `watch`. serve() creates one
 * per worker (src/services/builtin.ts) with every bound service SERVING and
 * calls `drain()` when the worker starts shutting down: every status turns
 * NOT_SERVING, watchers receive it, and their streams end so they never hold
 * the shutdown's grace period. Owns the statuses and their watchers only.
 */
import type { CallContext, ServiceBinding } from "../rpc/descriptor.ts";
import {
  bindHealth, Health, type HealthCheckReply, type HealthCheckRequest, type HealthHandlers, ServingStatus, UnknownService,
} from "./gen/health.ts";

/** One watch call: the statuses not yet sent and the resolver of its waiting loop. */
class HealthWatcher {
  readonly pending: ServingStatus[] = [];
  wake: (() => void) | null = null;
  constructor(readonly service: string) {}
  push(s: ServingStatus): void {
    this.pending.push(s);
    this.wakeUp();
  }
  wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export class HealthService implements HealthHandlers {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<HealthWatcher>();
  private draining = false;

  /** Every name in `services`, and the server as a whole (""), start SERVING. */
  constructor(services: Iterable<string> = []) {
    this.statuses.set("", ServingStatus.SERVING);
    for (const s of services) this.statuses.set(s, ServingStatus.SERVING);
  }

  /** Sets a service's status ("" for the whole server) and tells its watchers. Ignored once draining. */
  setStatus(service: string, status: ServingStatus): void {
    if (this.draining || this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const w of this.watchers) if (w.service === service) w.push(status);
  }

  /** The status of a service, or undefined when it has none. */
  status(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every status NOT_SERVING for good; watchers get it, then their streams end. */
  drain(): void {
    for (const s of this.statuses.keys()) this.setStatus(s, ServingStatus.NOT_SERVING);
    this.draining = true;
    for (const w of this.watchers) w.wakeUp();
  }

  /** A binding of this instance, for serve() or createRpcServer(). */
  binding(): ServiceBinding {
    return bindHealth(this);
  }

  check(req: HealthCheckRequest): HealthCheckReply {
    const status = this.statuses.get(req.service);
    if (status === undefined) throw new UnknownService({ service: req.service }, `no health status for service "${req.service}"`);
    return { status };
  }

  async *watch(req: HealthCheckRequest, ctx: CallContext): AsyncIterable<HealthCheckReply> {
    const w = new HealthWatcher(req.service);
    w.pending.push(this.statuses.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN);
    this.watchers.add(w);
    const onAbort = () => w.wakeUp();
    ctx.signal.addEventListener("abort", onAbort);
    try {
      while (!ctx.signal.aborted) {
        const next = w.pending.shift();
        if (next !== undefined) yield { status: next };
        else if (this.draining) return;
        else await new Promise<void>((resolve) => (w.wake = resolve));
      }
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      this.watchers.delete(w);
    }
  }
}

/** The health service's qualified name, for callers that look for it among bindings. */
export const HEALTH_SERVICE = Health.name;
