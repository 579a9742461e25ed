/**
 * MethodDescriptors built at run time from a resolved model: what the RPC
 * client (src/rpc/client.ts) needs to call a method it has no generated code
 * for, with the dynamic codec (dynamic-codec.ts) as its message and error
 * types. Also finds the service and method a `<service>/<method>` path
 * names, with errors a person can act on.
 */
import type { Method, Model, ServiceDecl } from "../../../idl/index.ts";
import type { MethodDescriptor } from "../../rpc/descriptor.ts";
import { RpcError, Status } from "../../rpc/status.ts";
import { serviceNotFound } from "../schema-source.ts";
import { DynamicCodec } from "./dynamic-codec.ts";

export interface ResolvedMethod {
  service: ServiceDecl;
  method: Method;
  descriptor: MethodDescriptor<unknown, unknown>;
}

/** The service declaration named `name`; NOT_FOUND naming the ones the model has. */
export function findService(model: Model, name: string): ServiceDecl {
  const s = model.services.find((x) => x.qualifiedName === name);
  if (s === undefined) throw serviceNotFound(name, model.services.map((x) => x.qualifiedName), "the IDL declares");
  return s;
}

/** The method `name` of `service`; UNIMPLEMENTED (what the server would answer) naming the ones it has. */
export function findMethod(service: ServiceDecl, name: string): Method {
  const m = service.methods.find((x) => x.name === name);
  if (m === undefined) throw new RpcError(Status.UNIMPLEMENTED, `no method "${name}" in ${service.qualifiedName} (its methods: ${service.methods.map((x) => x.name).join(", ")})`);
  return m;
}

/** The descriptor of `<service>/<method>` over the dynamic codec of `model`. */
export function resolveMethod(model: Model, codec: DynamicCodec, service: string, method: string): ResolvedMethod {
  const s = findService(model, service);
  const m = findMethod(s, method);
  const descriptor: MethodDescriptor<unknown, unknown> = {
    service: s.qualifiedName,
    name: m.name,
    path: `${s.qualifiedName}/${m.name}`,
    kind: m.kind,
    input: codec.messageType(m.input),
    output: codec.messageType(m.output),
    idempotent: m.idempotent,
    deadlineMs: m.deadlineMs,
    errors: m.throws.map((e) => codec.errorType(e)),
  };
  return { service: s, method: m, descriptor };
}
