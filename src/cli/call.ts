/**
 * `ringrpc call HOST:PORT SERVICE/METHOD [JSON] [-d TEXT|@FILE|@-] [-H k:v]... [--timeout D] [--idl FILE]...`:
 * grpcurl for ringrpc. Learns the method from the server's reflection (or
 * `--idl`), turns the JSON request (call-input.ts) into a message with the
 * dynamic codec, calls, and prints every response message as one line of
 * JSON (a server stream as NDJSON, as it arrives). Exit 0 on OK, otherwise
 * the status number, with the status on stderr (status-report.ts).
 */
import { UsageError } from "./args.ts";
import { DynamicCodec } from "./dynamic/dynamic-codec.ts";
import { resolveMethod } from "./dynamic/dynamic-method.ts";
import { JsonMapping, JsonValueError } from "./dynamic/json-mapping.ts";
import type { StructDecl } from "../../idl/index.ts";
import { messageLines, oneMessage, requestText } from "./call-input.ts";
import { type OpsIo, opsFlags, processIo, runOps } from "./ops-command.ts";

const USAGE = "ringrpc call HOST:PORT SERVICE/METHOD [JSON] [-d TEXT|@FILE|@-] [-H key:value]... [--timeout 2s] [--idl FILE.ridl]...";

/** "kv.v1.KeyValue/get" -> ["kv.v1.KeyValue", "get"]. */
export function splitMethodPath(path: string | undefined): [string, string] {
  const slash = path?.lastIndexOf("/") ?? -1;
  if (path === undefined || slash <= 0 || slash === path.length - 1) throw new UsageError(`give the method as SERVICE/METHOD, e.g. kv.v1.KeyValue/get${path === undefined ? "" : ` (got "${path}")`}`);
  return [path.slice(0, slash), path.slice(slash + 1)];
}

export function runCall(argv: string[], io: OpsIo = processIo): Promise<number> {
  const spec = opsFlags({ values: ["data"], short: { d: "data" } });
  return runOps("call", USAGE, argv, spec, io, async (ctx) => {
    const [servicePath, json] = [ctx.rest[0], ctx.rest[1]];
    if (ctx.rest.length > 2) throw new UsageError(`unexpected argument "${ctx.rest[2]}"`);
    const [service, method] = splitMethodPath(servicePath);
    const input = { positional: json, data: ctx.args.flags.get("data"), readStdin: () => io.readStdin(), stdinIsTty: io.stdinIsTty };
    const model = await ctx.schema.model(service);
    const mapping = new JsonMapping(model);
    ctx.json = mapping;
    const { method: m, descriptor } = resolveMethod(model, new DynamicCodec(model), service, method);
    const text = await requestText(input, m.kind === "client_stream" || m.kind === "bidi");
    const inDecl = model.byName.get(m.input) as StructDecl;
    const outDecl = model.byName.get(m.output) as StructDecl;
    const toMessage = (j: unknown, where: string) => {
      try {
        return mapping.structFromJson(inDecl, j);
      } catch (e) {
        if (e instanceof JsonValueError && where !== "") throw new JsonValueError("", `${where}: ${e.message}`);
        throw e;
      }
    };
    const print = (v: unknown) => io.stdout(`${JSON.stringify(mapping.structToJson(outDecl, v as Record<string, unknown>))}\n`);
    const opts = ctx.remote.callOptions();
    const ch = ctx.remote.channel;
    switch (m.kind) {
      case "unary":
        print(await ch.unary(descriptor, toMessage(oneMessage(text), ""), opts));
        break;
      case "server_stream":
        for await (const v of ch.serverStream(descriptor, toMessage(oneMessage(text), ""), opts)) print(v);
        break;
      case "client_stream":
        print(await ch.clientStream(descriptor, messageLines(text).map((j, i) => toMessage(j, `request ${i + 1}`)), opts));
        break;
      case "bidi":
        for await (const v of ch.bidi(descriptor, messageLines(text).map((j, i) => toMessage(j, `request ${i + 1}`)), opts)) print(v);
        break;
    }
    return 0;
  });
}
