/**
 * `ringrpc describe HOST:PORT SYMBOL [--idl FILE]...`: prints SYMBOL as .ridl
 * text (ridl-format.ts), from the server's reflection or `--idl` files.
 * SYMBOL is a service (`kv.v1.KeyValue`: its declaration), a method
 * (`kv.v1.KeyValue/get`: its line, then every type its request, response and
 * errors reach), or a type (`kv.v1.Entry`: it and the types it reaches).
 * Each declaration is headed by a `// <qualified name>` line.
 */
import type { Decl, Model } from "../../idl/index.ts";
import { RpcError, Status } from "../rpc/status.ts";
import { UsageError } from "./args.ts";
import { splitMethodPath } from "./call.ts";
import { findMethod, findService } from "./dynamic/dynamic-method.ts";
import { type OpsIo, opsFlags, processIo, runOps } from "./ops-command.ts";
import { formatDecl, formatMethod, reachableTypes } from "./ridl-format.ts";
import type { SchemaSource } from "./schema-source.ts";

const USAGE = "ringrpc describe HOST:PORT SERVICE|SERVICE/METHOD|TYPE [--timeout 2s] [--idl FILE.ridl]...";

function section(d: Decl): string {
  return `// ${d.qualifiedName}\n${formatDecl(d)}\n`;
}

/** The model that declares a type: looked for in each service's IDL in turn. */
async function modelDeclaring(schema: SchemaSource, symbol: string): Promise<Model> {
  const services = await schema.services();
  for (const s of services) {
    let model: Model;
    try {
      model = await schema.model(s.name);
    } catch (e) {
      if ((e as RpcError).code === "ringrpc.reflection.v1.IdlUnavailable") continue;
      throw e;
    }
    if (model.byName.has(symbol)) return model;
  }
  throw new RpcError(Status.NOT_FOUND, `no service, method or type "${symbol}" in the IDL of ${services.map((s) => s.name).join(", ") || "any service"}`);
}

export function runDescribe(argv: string[], io: OpsIo = processIo): Promise<number> {
  return runOps("describe", USAGE, argv, opsFlags(), io, async (ctx) => {
    const symbol = ctx.rest[0];
    if (symbol === undefined) throw new UsageError("give what to describe: a service, SERVICE/METHOD or a type");
    if (ctx.rest.length > 1) throw new UsageError(`unexpected argument "${ctx.rest[1]}"`);
    if (symbol.includes("/")) {
      const [service, method] = splitMethodPath(symbol);
      const model = await ctx.schema.model(service);
      const s = findService(model, service);
      const m = findMethod(s, method);
      const doc = m.doc === undefined ? "" : `${m.doc.split("\n").map((l) => `///${l === "" ? "" : ` ${l}`}`).join("\n")}\n`;
      io.stdout(`// ${s.qualifiedName}/${m.name} (${m.kind})\n${doc}${formatMethod(m, s.package)}\n`);
      for (const d of reachableTypes(model, [m.input, m.output, ...m.throws])) io.stdout(`\n${section(d)}`);
      return 0;
    }
    const services = await ctx.schema.services();
    if (services.some((s) => s.name === symbol)) {
      io.stdout(section(findService(await ctx.schema.model(symbol), symbol)));
      return 0;
    }
    const model = await modelDeclaring(ctx.schema, symbol);
    const [first, ...rest] = reachableTypes(model, [symbol]);
    if (first === undefined) throw new RpcError(Status.NOT_FOUND, `"${symbol}" is not a type`);
    io.stdout(section(first));
    for (const d of rest) io.stdout(`\n${section(d)}`);
    return 0;
  });
}
