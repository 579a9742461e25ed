/**
 * The layering rules of the repository (docs/ARCHITECTURE.md, "The layers"):
 * which folder may import which. Each rule names a file prefix and the
 * prefixes its imports may point to; the most specific (longest) matching
 * prefix decides. Owns the rules and their check, nothing else.
 */

/** The package's public entry points: all an example may use of src/. */
export const PUBLIC_ENTRIES = ["src/index.ts", "src/rpc/index.ts", "src/runtime/index.ts", "src/codec/index.ts", "src/zod.ts"];

export const RULES: Record<string, string[]> = {
  // The runtime knows nothing above it; the codec knows nothing at all.
  "src/runtime/": ["src/runtime/"],
  // The one file that embeds the prebuilt shim in binaries built with `bun build --compile`.
  "src/runtime/native-embedded.ts": ["native/prebuilt/linux-x64/libringrpc.so"],
  "src/codec/": ["src/codec/"],
  "src/rpc/": ["src/rpc/", "src/codec/", "src/runtime/"],
  // The built-in services (health, reflection) and their generated code: RPC-layer users, below serve().
  "src/services/": ["src/services/", "src/rpc/", "src/codec/", "src/zod"],
  "src/serve.ts": ["src/"],
  "src/open-channel.ts": ["src/"],
  "src/index.ts": ["src/"],
  // `ringrpc/zod`: re-exports the zod package, imports nothing of the repository.
  "src/zod.ts": [],
  // The compiler unit: the CLI drives the IDL front end and the emitters through their entries.
  "src/cli/": ["src/", "idl/index.ts", "codegen/index.ts", "package.json"],
  "idl/": ["idl/"],
  "codegen/": ["codegen/", "idl/"],
  // Examples use ringrpc as a user would: only its public entries.
  "examples/": ["examples/", ...PUBLIC_ENTRIES],
  // The one exception, by name: the bench server's former path forwards to it.
  "examples/bench/server.ts": ["bench/server/server.ts"],
  // The benchmark is its own unit; it measures the library (and the examples' generated codecs as fixtures).
  "bench/": ["bench/", "src/", "idl/", "codegen/", "examples/kv/gen/", "examples/chat/gen/"],
  // Tests import what they test, never an example; test/examples/ is where examples are tested.
  "test/": ["test/", "src/", "idl/", "codegen/", "bench/", "scripts/", "native/", "docs/", "package.json"],
  "test/examples/": ["test/", "src/", "idl/", "codegen/", "bench/", "examples/", "package.json"],
  // The attack suite's victim is the kv example service: a real server whose values can be large.
  "test/attack/": ["test/", "src/", "idl/", "codegen/", "bench/", "examples/kv/", "package.json"],
  // The deploy tests run the kv example behind a real proxy, as docs/DEPLOY.md deploys it, and through
  // a rolling restart behind a DNS name, driving it with its generated client.
  "test/deploy/": ["test/", "src/", "idl/", "codegen/", "bench/", "examples/kv/", "docs/", "package.json"],
  "scripts/": ["scripts/", "src/", "idl/", "codegen/", "bench/", "examples/", "test/", "package.json"],
};

/** The imports in graph that no rule allows, as "file -> import". */
export function violations(graph: Map<string, string[]>, rules: Record<string, string[]> = RULES): string[] {
  const out: string[] = [];
  const prefixes = Object.keys(rules).sort((a, b) => b.length - a.length);
  for (const [file, deps] of graph) {
    const rule = prefixes.find((p) => file.startsWith(p));
    if (rule === undefined) {
      out.push(`${file}: no layering rule covers this file`);
      continue;
    }
    for (const d of deps) if (!rules[rule]!.some((allowed) => d.startsWith(allowed))) out.push(`${file} -> ${d}`);
  }
  return out.sort();
}
