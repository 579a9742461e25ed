/**
 * Where the operating commands learn a server's services and IDL: from the
 * server itself through reflection (ringrpc.reflection.v1.Reflection,
 * src/services/reflection.ridl), or from local .ridl files given with
 * `--idl` when the server offers no reflection. Either way the answer is the
 * list of services and the resolved model (idl/) of the one a command
 * needs. Failures are RpcErrors whose status becomes the exit code.
 */
import { compile, formatDiagnostic, type Model } from "../../idl/index.ts";
import type { CallOptions, CallInvoker, MethodKind } from "../rpc/descriptor.ts";
import { RpcError, Status } from "../rpc/status.ts";
import { CallKind, ReflectionClient } from "../services/gen/reflection.ts";
import { UsageError } from "./args.ts";

export interface MethodSummary {
  name: string;
  kind: MethodKind;
  input: string;
  output: string;
}

export interface ServiceSummary {
  name: string;
  methods: MethodSummary[];
}

export interface SchemaSource {
  /** Every service the server (or the local IDL) offers. */
  services(): Promise<ServiceSummary[]>;
  /** The resolved IDL that declares `service`; NOT_FOUND when there is none. */
  model(service: string): Promise<Model>;
}

/** A method's kind from reflection; CallKind is open, so a newer server may name one this client cannot call. */
function kindOf(service: string, method: string, kind: CallKind): MethodKind {
  switch (kind) {
    case CallKind.UNARY: return "unary";
    case CallKind.SERVER_STREAM: return "server_stream";
    case CallKind.CLIENT_STREAM: return "client_stream";
    case CallKind.BIDI: return "bidi";
    default: throw new RpcError(Status.UNIMPLEMENTED, `${service}/${method} has a call kind this ringrpc does not know (${kind}): use a newer ringrpc`);
  }
}

/** A NOT_FOUND for a service nobody offers, naming the ones there are. */
export function serviceNotFound(service: string, known: readonly string[], where = "the server offers"): RpcError {
  return new RpcError(Status.NOT_FOUND, `no service "${service}" (${where} ${known.join(", ") || "none"})`);
}

/** The services of a model, as summaries. */
function summaries(model: Model): ServiceSummary[] {
  return model.services.map((s) => ({
    name: s.qualifiedName,
    methods: s.methods.map((m) => ({ name: m.name, kind: m.kind, input: m.input, output: m.output })),
  }));
}

/** Compiles .ridl text; a server whose IDL does not compile here is a bug on one side. */
function compileFiles(entry: string, files: ReadonlyMap<string, string>, what: string): Model {
  const { model, diagnostics } = compile([entry], { readFile: (p) => files.get(p) });
  if (model === null) {
    const first = diagnostics.find((d) => d.severity === "error");
    throw new RpcError(Status.INTERNAL, `${what} does not compile here: ${first === undefined ? "unknown error" : formatDiagnostic(first, "text").split("\n")[0]}`);
  }
  return model;
}

/** Reflection: the server lists its services and sends each service's .ridl files. */
export class ReflectionSchema implements SchemaSource {
  private readonly client: ReflectionClient;
  private listing: Promise<ServiceSummary[]> | null = null;

  constructor(invoker: CallInvoker, private readonly opts: CallOptions) {
    this.client = new ReflectionClient(invoker);
  }

  services(): Promise<ServiceSummary[]> {
    this.listing ??= this.client.listServices({}, this.opts).then(
      (r) => r.services.map((s) => ({ name: s.name, methods: s.methods.map((m) => ({ name: m.name, kind: kindOf(s.name, m.name, m.kind), input: m.input, output: m.output })) })),
      (e) => Promise.reject(noReflection(e)),
    );
    return this.listing;
  }

  async model(service: string): Promise<Model> {
    let reply;
    try {
      reply = await this.client.getIdl({ service }, this.opts);
    } catch (e) {
      if ((e as RpcError).code === "ringrpc.reflection.v1.ServiceNotFound") throw serviceNotFound(service, (await this.services()).map((s) => s.name));
      throw noReflection(e);
    }
    return compileFiles(reply.file, new Map(reply.files.map((f) => [f.path, f.text])), `the IDL the server sent for ${service}`);
  }
}

/** An UNIMPLEMENTED reflection call means the server turned reflection off: say what to do. */
function noReflection(e: unknown): unknown {
  const err = e as RpcError;
  if (err.status !== Status.UNIMPLEMENTED) return e;
  return new RpcError(Status.UNIMPLEMENTED, `the server offers no reflection (${err.message}); pass the service's IDL with --idl FILE.ridl`);
}

/** `--idl FILE...`: the services of local .ridl files, compiled once. */
export class LocalSchema implements SchemaSource {
  private readonly compiled: Model;

  constructor(files: readonly string[]) {
    const { model, diagnostics } = compile([...files]);
    if (model === null) {
      const first = diagnostics.find((d) => d.severity === "error");
      throw new UsageError(`--idl ${files.join(" ")} does not compile: ${first === undefined ? "unknown error" : formatDiagnostic(first, "text").split("\n")[0]}`);
    }
    this.compiled = model;
  }

  async services(): Promise<ServiceSummary[]> {
    return summaries(this.compiled);
  }

  async model(service: string): Promise<Model> {
    if (!this.compiled.services.some((s) => s.qualifiedName === service)) throw serviceNotFound(service, this.compiled.services.map((s) => s.qualifiedName), "the IDL declares");
    return this.compiled;
  }
}
