/**
 * The repository's TypeScript import graph, for the layering tests: every
 * .ts file under the project's own folders and the relative imports each one
 * makes (`import`, `import type`, `export ... from`, dynamic `import("...")`),
 * resolved to repository paths (a directory import, as generated code with a
 * relative `--runtime` writes, to its index.ts). Owns the parsing and cycle
 * search only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export const root = normalize(new URL("../..", import.meta.url).pathname);
const FOLDERS = ["src", "idl", "codegen", "bench", "examples", "test", "scripts"];
const SKIP = new Set(["node_modules", "target", "build", "results", "golden"]);

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
}

/** repo-relative file -> repo-relative files it imports. */
export function importGraph(): Map<string, string[]> {
  const files: string[] = [];
  for (const f of FOLDERS) walk(join(root, f), files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const deps = new Set<string>();
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) {
      const target = normalize(join(dirname(file), m[1]!));
      const isDir = existsSync(target) && statSync(target).isDirectory();
      deps.add(relative(root, isDir ? join(target, "index.ts") : target));
    }
    graph.set(relative(root, file), [...deps]);
  }
  return graph;
}

/** Every cycle (as a path a -> b -> ... -> a), each reported once from its smallest member. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let next = 0;
  // Tarjan's strongly connected components; each component of 2+ files (or a self-import) is a cycle.
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) found.set(comp.sort()[0]!, comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return [...found.values()];
}
