/**
 * The IDL source a generated service descriptor carries for reflection
 * (`ServiceDescriptor.idl`, codegen/emit-idl.ts): the declaring file and
 * every file it imports, exactly as on disk, under paths relative to the
 * generation root that its imports resolve between; compiled back, it
 * declares the same service. A file without services carries none.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../idl/index.ts";
import * as base from "./golden/all/expected/base.ts";
import { Everything, Second } from "./golden/all/expected/main.ts";

const GOLDEN = join(import.meta.dir, "golden", "all");

describe("ServiceDescriptor.idl", () => {
  test("a service's file and its import, as on disk, sharing one object per file", () => {
    const idl = Everything.idl!;
    expect(idl.file).toBe("main.ridl");
    expect(idl.files.map((f) => f.path)).toEqual(["main.ridl", "base.ridl"]);
    for (const f of idl.files) expect(f.text).toBe(readFileSync(join(GOLDEN, f.path), "utf8"));
    expect(Second.idl).toBe(idl);
  });

  test("compiled from those files alone, it declares both services with their methods", () => {
    const texts = new Map(Everything.idl!.files.map((f) => [f.path, f.text]));
    const { model, diagnostics } = compile([Everything.idl!.file], { readFile: (p) => texts.get(p) });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(model!.services.map((s) => s.qualifiedName)).toEqual([Everything.name, Second.name]);
    expect(model!.services[0]!.methods.map((m) => m.name)).toEqual(Object.keys(Everything.methods));
  });

  test("a generated file without services has no IDL constant", () => {
    expect(readFileSync(join(GOLDEN, "expected", "base.ts"), "utf8")).not.toContain("$idl");
    expect(Object.keys(base).some((k) => k.toLowerCase().includes("idl"))).toBe(false);
  });
});
