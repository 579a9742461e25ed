/**
 * Import resolution: relative paths, package-qualified names across files,
 * visibility (only direct imports), cycles, missing files, duplicates, and
 * the real file system through temp directories.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, type StructDecl } from "../../idl/index.ts";
import { compileFiles, headlines } from "./helpers.ts";

describe("imports", () => {
  test("package-qualified names resolve across an import; load order is depth-first", () => {
    const r = compileFiles({
      "api/kv.ridl": 'package kv.v1;\nimport "../common/types.ridl";\nstruct Entry { 1: tag: common.v1.Tag; 2: when: common.v1.Stamp; }\n',
      "common/types.ridl": 'package common.v1;\nimport "more.ridl";\nstruct Tag { 1: name: string; }\nstruct Stamp { 1: at: Inner; }\n',
      "common/more.ridl": "package common.v1;\nstruct Inner { 1: x: i32; }\n",
    });
    expect(headlines(r)).toEqual([]);
    const m = r.model!;
    expect(m.files.map((f) => [f.path, f.package, f.imports])).toEqual([
      ["api/kv.ridl", "kv.v1", ["common/types.ridl"]],
      ["common/types.ridl", "common.v1", ["common/more.ridl"]],
      ["common/more.ridl", "common.v1", []],
    ]);
    const entry = m.byName.get("kv.v1.Entry") as StructDecl;
    expect(entry.fields[0]?.type).toEqual({ kind: "ref", qualifiedName: "common.v1.Tag", target: "struct" });
    expect(m.packages.map((p) => [p.name, p.files])).toEqual([
      ["kv.v1", ["api/kv.ridl"]],
      ["common.v1", ["common/types.ridl", "common/more.ridl"]],
    ]);
  });

  test("a local name resolves within the package only", () => {
    const r = compileFiles({
      "a.ridl": 'package a;\nimport "b.ridl";\nstruct A { 1: b: B; }\n',
      "b.ridl": "package b;\nstruct B {}\n",
    });
    expect(headlines(r)).toEqual(['a.ridl:3:18: error: unknown type "B"']);
  });

  test("same package across files needs an import too", () => {
    const r = compileFiles({ "a.ridl": "package p;\nstruct A { 1: b: B; }\n", "b.ridl": "package p;\nstruct B {}\n" }, ["a.ridl", "b.ridl"]);
    expect(headlines(r)).toEqual(['a.ridl:2:18: error: "B" is declared in b.ridl, which a.ridl does not import']);
  });

  test("transitive imports are not visible", () => {
    const r = compileFiles({
      "a.ridl": 'package a;\nimport "b.ridl";\nstruct A { 1: c: c.C; }\n',
      "b.ridl": 'package b;\nimport "c.ridl";\n',
      "c.ridl": "package c;\nstruct C {}\n",
    });
    expect(headlines(r)).toEqual(['a.ridl:3:18: error: "c.C" is declared in c.ridl, which a.ridl does not import']);
  });

  test("an import cycle is rejected and named", () => {
    const r = compileFiles({
      "a.ridl": 'package a;\nimport "b.ridl";\n',
      "b.ridl": 'package b;\nimport "c.ridl";\n',
      "c.ridl": 'package c;\nimport "a.ridl";\n',
    });
    expect(r.model).toBeNull();
    expect(headlines(r)).toEqual(['c.ridl:2:8: error: import cycle: a.ridl -> b.ridl -> c.ridl -> a.ridl']);
  });

  test("a file importing itself is a cycle", () => {
    const r = compileFiles({ "a.ridl": 'package a;\nimport "./a.ridl";\n' });
    expect(headlines(r)).toEqual(["a.ridl:2:8: error: import cycle: a.ridl -> a.ridl"]);
  });

  test("a diamond is not a cycle and loads the shared file once", () => {
    const r = compileFiles({
      "top.ridl": 'package top;\nimport "l.ridl";\nimport "r.ridl";\n',
      "l.ridl": 'package l;\nimport "base.ridl";\n',
      "r.ridl": 'package r;\nimport "base.ridl";\n',
      "base.ridl": "package base;\nstruct B {}\n",
    });
    expect(headlines(r)).toEqual([]);
    expect(r.model?.files.map((f) => f.path)).toEqual(["top.ridl", "l.ridl", "base.ridl", "r.ridl"]);
  });

  test("a missing import file", () => {
    const r = compileFiles({ "a.ridl": 'package a;\nimport "sub/missing.ridl";\n' });
    expect(headlines(r)).toEqual(['a.ridl:2:8: error: cannot read imported file "sub/missing.ridl" (looked for sub/missing.ridl)']);
    expect(r.diagnostics[0]?.code).toBe("E0101");
  });

  test("a duplicate import", () => {
    const r = compileFiles({ "a.ridl": 'package a;\nimport "b.ridl";\nimport "./b.ridl";\n', "b.ridl": "package b;\n" });
    expect(headlines(r)).toEqual(['a.ridl:3:8: error: duplicate import of "./b.ridl" (first imported at a.ridl:2:8)']);
  });

  test("duplicate declarations across files of one package", () => {
    const r = compileFiles({ "a.ridl": 'package p;\nimport "b.ridl";\nstruct X {}\n', "b.ridl": "package p;\nenum X { A = 0; }\n" });
    expect(headlines(r)).toEqual(['b.ridl:2:6: error: duplicate declaration "X" (first defined at a.ridl:3:8)']);
  });

  test("errors in an imported file are reported with its path", () => {
    const r = compileFiles({ "a.ridl": 'package a;\nimport "b.ridl";\n', "b.ridl": "package b;\nstruct B { 1 x: i32; }\n" });
    expect(headlines(r)).toEqual(['b.ridl:2:14: error: expected ":" but found "x"']);
  });

  describe("file system", () => {
    const dir = mkdtempSync(join(tmpdir(), "ridl-imports-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("reads files relative to the importer by default", () => {
      mkdirSync(join(dir, "common"), { recursive: true });
      writeFileSync(join(dir, "kv.ridl"), 'package kv;\nimport "common/c.ridl";\nstruct E { 1: c: c.C; }\n');
      writeFileSync(join(dir, "common", "c.ridl"), "package c;\nstruct C {}\n");
      const r = compile([join(dir, "kv.ridl")]);
      expect(r.diagnostics.length).toBe(0);
      expect(r.model?.files.map((f) => f.path)).toEqual([join(dir, "kv.ridl"), join(dir, "common", "c.ridl")]);
    });

    test("an unreadable entry file is a diagnostic, not an exception", () => {
      const r = compile([join(dir, "absent.ridl")]);
      expect(r.model).toBeNull();
      expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0100", `cannot read file ${join(dir, "absent.ridl")}`]]);
    });
  });
});
