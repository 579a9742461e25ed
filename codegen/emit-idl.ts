/**
 * Emits the module-private `$idl` constant of a file that declares services:
 * the .ridl text of that file and of every file it imports, directly or not,
 * with paths relative to the generation root, so a service descriptor can
 * carry its own IDL (`ServiceDescriptor.idl`, src/rpc/descriptor.ts) for
 * reflection (ringrpc.reflection.v1). One string literal per file; nothing
 * else is exported, so the module's surface does not grow.
 */
import { posix } from "node:path";
import type { Model, SourceFile } from "../idl/model.ts";
import { quote } from "./names.ts";
import type { Printer } from "./printer.ts";

/** The file at `source` followed depth-first by its imports, each once. */
function withImports(model: Model, source: string): SourceFile[] {
  const byPath = new Map(model.files.map((f) => [f.path, f]));
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    const f = byPath.get(path);
    if (f === undefined || seen.has(path)) return;
    seen.add(path);
    out.push(f);
    for (const imp of f.imports) visit(imp);
  };
  visit(source);
  return out;
}

/**
 * Emits `const $idl = { file, files: [...] };` for the file at `source` and
 * returns its identifier. `root` is the absolute directory the paths are
 * made relative to (the output layout's root, generate.ts).
 */
export function emitIdl(p: Printer, model: Model, source: string, root: string): string {
  const name = p.claimName("$idl", "IDL source of this file's services");
  const rel = (path: string) => posix.relative(root, posix.resolve(path));
  p.doc("The .ridl source of this file's services and of every file it imports, served by reflection.");
  p.block(`const ${name} = {`, () => {
    p.line(`file: ${quote(rel(source))},`);
    p.block("files: [", () => {
      for (const f of withImports(model, source)) p.line(`{ path: ${quote(rel(f.path))}, text: ${quote(f.text)} },`);
    }, "],");
  }, "};");
  p.line();
  return name;
}
