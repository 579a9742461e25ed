/**
 * docs/RPC.md's "gRPC interop cases" table is grpc-cases.ts as a table: one
 * row per case, in order, with whether it maps, the note, and the test that
 * covers it. A case added, dropped or re-described on one side only fails
 * here with the rows that differ.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "../repo/import-graph.ts";
import { GRPC_CASES, type GrpcCase } from "./grpc-cases.ts";

const HEADER = "| gRPC case | mapped | how it maps, or why not | test |";

function row(c: GrpcCase): string {
  const note = c.note === "" ? "as gRPC describes it" : c.note;
  return `| ${c.name} | ${c.mapped ? "yes" : "no"} | ${note} | ${c.mapped ? `test/interop/cases.test.ts, "${c.name}"` : "none"} |`;
}

/** The table's body rows in docs/RPC.md (after its header and separator). */
function documentedRows(): string[] {
  const lines = readFileSync(join(root, "docs/RPC.md"), "utf8").split("\n");
  const at = lines.indexOf(HEADER);
  if (at < 0) return [`docs/RPC.md has no line ${HEADER}`];
  const rows: string[] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(lines[i]!);
  return rows;
}

test("docs/RPC.md's gRPC interop table lists every case of grpc-cases.ts, as it says", () => {
  expect(documentedRows()).toEqual(GRPC_CASES.map(row));
});
