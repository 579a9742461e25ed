/**
 * The generator's entry point: one TypeScript module per loaded .ridl file,
 * written into an output directory that mirrors the sources' common
 * directory. Each module holds, in this order: types, codecs, validators,
 * MessageType objects, zod schemas, error classes, services; codecs and
 * validators are module-private, reached through the MessageType objects
 * (docs/CODEGEN.md, "What a generated module exports"). Output is a pure
 * function of (model, options): deterministic, no clock, no file system.
 */
import { posix } from "node:path";
import type { Decl, Model, StructDecl, UnionDecl } from "../idl/model.ts";
import { CheckEmitter } from "./emit-checks.ts";
import { CodecEmitter } from "./emit-codec.ts";
import { emitError } from "./emit-errors.ts";
import { emitIdl } from "./emit-idl.ts";
import { declIdent, quote } from "./names.ts";
import { Printer } from "./printer.ts";
import { SchemaEmitter } from "./emit-schema.ts";
import { emitService } from "./emit-service.ts";
import { emitTypes } from "./emit-types.ts";

export interface GenerateOptions {
  /** Runtime package specifier; generated code imports "<runtime>/codec" and "<runtime>/rpc". Default "ringrpc". */
  runtime?: string;
  /** Generator version for the header line (package.json version). */
  version: string;
  /** Directory the header's source paths are relative to (default: the paths as loaded). */
  headerBase?: string;
}

export interface GeneratedFile {
  /** Path of the output, relative to the output directory, e.g. "kv.ts". */
  readonly path: string;
  /** The .ridl path it was generated from (as loaded). */
  readonly source: string;
  readonly content: string;
  /** Number of services in the file. */
  readonly services: number;
}

/** The longest directory every path lies under ("." when they share none). */
export function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return ".";
  let parts = posix.dirname(paths[0]!).split("/");
  for (const p of paths.slice(1)) {
    const q = posix.dirname(p).split("/");
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.length === 0 ? "." : parts.join("/") || "/";
}

function outputPath(root: string, source: string): string {
  const rel = posix.relative(root, source);
  return rel.replace(/\.ridl$/, "") + ".ts";
}

/** `XType`, the one exported handle on the private codecs and validator of a struct or union. */
function emitMessageType(p: Printer, d: StructDecl | UnionDecl): void {
  const base = declIdent(d.name);
  const name = p.claimName(`${base}Type`, `message type of ${d.qualifiedName}`);
  const mt = p.runtime("rpc", "MessageType", true);
  p.doc(`Codec and validator of ${d.qualifiedName} for the RPC layer.`);
  p.block(`export const ${name}: ${mt}<${base}> = {`, () => {
    p.line(`typeName: ${quote(d.qualifiedName)},`);
    p.line(`encode: encode${base},`);
    p.line(`decode: decode${base},`);
    p.line(`validate: check${base},`);
    p.line(`decoderValidates: true,`);
  }, "};");
  p.line();
}

function generateFile(model: Model, source: string, root: string, opts: GenerateOptions): GeneratedFile {
  const decls: Decl[] = model.decls.filter((d) => d.pos.file === source);
  const out = outputPath(root, source);
  const header = `ringrpc gen v${opts.version} from ${opts.headerBase === undefined ? source : posix.relative(opts.headerBase, posix.resolve(source))}`;
  const p = new Printer(model, source, {
    runtime: opts.runtime ?? "ringrpc",
    header,
    moduleFor: (target) => {
      const rel = posix.relative(posix.dirname(out), outputPath(root, target));
      return rel.startsWith(".") ? rel : `./${rel}`;
    },
  });
  emitTypes(p, model, decls);
  new CodecEmitter(p, model).emitAll(decls);
  new CheckEmitter(p, model).emitAll(decls);
  for (const d of decls) if (d.kind === "struct" || d.kind === "union") emitMessageType(p, d);
  new SchemaEmitter(p, model, source).emitAll(decls);
  for (const d of decls) if (d.kind === "error") emitError(p, model, d);
  let services = 0;
  const idl = decls.some((d) => d.kind === "service") ? emitIdl(p, model, source, root) : "";
  for (const d of decls) {
    if (d.kind === "service") {
      emitService(p, model, d, idl);
      services++;
    }
  }
  return { path: out, source, content: p.render(), services };
}

/** Generates one module per loaded file, in load order. Throws CodegenError on name clashes. */
export function generate(model: Model, opts: GenerateOptions): GeneratedFile[] {
  const sources = model.files.map((f) => f.path);
  const root = commonDir(sources.map((s) => posix.resolve(s)));
  return sources.map((s) => generateFile(model, s, root, opts));
}
