/**
 * The services every serve() adds to the user's (docs/RPC.md, "Operating a
 * service"): health (src/services/health.ts) unless `health: false`, and
 * reflection (src/services/reflection.ts) over all of them unless
 * `reflection: false`. A HealthService (or a reflection service) the user
 * bound already is used as it is, so its statuses stay the user's to set. Owns the composition only.
 */
import type { ServiceBinding } from "../rpc/descriptor.ts";
import { HEALTH_SERVICE, HealthService } from "./health.ts";
import { REFLECTION_SERVICE, reflectionBinding } from "./reflection.ts";

export interface BuiltinServiceOptions {
  /** Offer ringrpc.reflection.v1.Reflection (default true). */
  reflection?: boolean;
  /** Offer ringrpc.health.v1.Health (default true). */
  health?: boolean;
}

export interface WithBuiltins {
  bindings: ServiceBinding[];
  /** The health service that serve() drains at shutdown, or null when there is none. */
  health: HealthService | null;
}

/** The user's bindings plus the built-in services the options ask for. */
export function withBuiltinServices(user: readonly ServiceBinding[], opts: BuiltinServiceOptions): WithBuiltins {
  const bindings = [...user];
  const bound = bindings.find((b) => b.descriptor.name === HEALTH_SERVICE);
  let health = bound?.impl instanceof HealthService ? bound.impl : null;
  if (bound === undefined && opts.health !== false) {
    health = new HealthService(bindings.map((b) => b.descriptor.name));
    bindings.push(health.binding());
  }
  if (opts.reflection !== false && !bindings.some((b) => b.descriptor.name === REFLECTION_SERVICE)) bindings.push(reflectionBinding(bindings));
  return { bindings, health };
}
