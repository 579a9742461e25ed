/**
 * Every cross-folder import follows the layering of docs/ARCHITECTURE.md
 * (the rules live in layers.ts): the runtime knows nothing above it,
 * examples use only the package's public entries, tests never import an
 * example (except in test/examples/), the benchmark is its own unit. A new
 * violation fails here with the offending import named.
 */
import { expect, test } from "bun:test";
import { importGraph } from "./import-graph.ts";
import { violations } from "./layers.ts";

test("every import in the repository follows the layering rules", () => {
  expect(violations(importGraph())).toEqual([]);
});

test("the rules reject what they forbid", () => {
  const graph = new Map<string, string[]>([
    ["src/runtime/uring/core.ts", ["src/rpc/server.ts", "src/runtime/types.ts"]],
    ["examples/kv/server.ts", ["src/serve.ts", "src/index.ts", "examples/flags.ts"]],
    ["test/rpc/x.test.ts", ["examples/kv/client.ts", "src/rpc/index.ts"]],
    ["test/examples/y.test.ts", ["examples/kv/client.ts"]],
    ["elsewhere/z.ts", []],
  ]);
  expect(violations(graph)).toEqual([
    "elsewhere/z.ts: no layering rule covers this file",
    "examples/kv/server.ts -> src/serve.ts",
    "src/runtime/uring/core.ts -> src/rpc/server.ts",
    "test/rpc/x.test.ts -> examples/kv/client.ts",
  ]);
});
