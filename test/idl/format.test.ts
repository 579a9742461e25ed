/**
 * Diagnostic printing: the text format (headline, source line, caret) and the
 * JSON format (one object per diagnostic).
 */
import { describe, expect, test } from "bun:test";
import { compile, formatDiagnostic } from "../../idl/index.ts";
import { compileFiles, compileText } from "./helpers.ts";

describe("formatDiagnostic", () => {
  const src = "package kv.v1;\nstruct Entry {\n  1: key: string;\n  2: key: bytes;\n}\n";

  test("text: headline, source line and a caret under the column", () => {
    const r = compileFiles({ "kv.ridl": src });
    expect(r.diagnostics.length).toBe(1);
    const d = r.diagnostics[0]!;
    expect(formatDiagnostic(d, "text")).toBe(
      'kv.ridl:4:6: error: duplicate field name "key" (first defined at kv.ridl:3:6)\n' +
        "  2: key: bytes;\n" +
        "     ^",
    );
  });

  test("json: file, line, col, severity, code, message", () => {
    const r = compileFiles({ "kv.ridl": src });
    const obj = JSON.parse(formatDiagnostic(r.diagnostics[0]!, "json"));
    expect(obj).toEqual({
      file: "kv.ridl", line: 4, col: 6, severity: "error", code: "E0202",
      message: 'duplicate field name "key" (first defined at kv.ridl:3:6)',
    });
  });

  test("a caret at end of file points past the last character", () => {
    const r = compileText("package t;\nstruct A {");
    const text = formatDiagnostic(r.diagnostics[0]!, "text");
    expect(text).toBe('t.ridl:2:11: error: expected "}" but found end of file\nstruct A {\n          ^');
  });

  test("CRLF line endings do not shift columns or leak into the source line", () => {
    const r = compileText("package t;\r\nstruct A {\r\n  1 a: i32;\r\n}\r\n");
    expect(formatDiagnostic(r.diagnostics[0]!, "text")).toBe('t.ridl:3:5: error: expected ":" but found "a"\n  1 a: i32;\n    ^');
  });

  test("a missing entry file has no position", () => {
    const r = compileFiles({}, ["nope.ridl"]);
    expect(r.model).toBeNull();
    expect(formatDiagnostic(r.diagnostics[0]!, "text")).toBe("nope.ridl: error: cannot read file nope.ridl");
    expect(JSON.parse(formatDiagnostic(r.diagnostics[0]!, "json")).code).toBe("E0100");
  });

  test("a readFile hook that throws means the file cannot be read", () => {
    const r = compile(["a.ridl"], { readFile: () => { throw new Error("EACCES"); } });
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0100", "cannot read file a.ridl"]]);
  });

  test("an internal failure becomes one E9999 diagnostic instead of an exception", () => {
    // A hook breaking its contract (null instead of text) makes the lexer fail inside.
    const r = compile(["a.ridl"], { readFile: () => null as unknown as string });
    expect(r.model).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E9999"]);
    expect(formatDiagnostic(r.diagnostics[0]!, "text")).toStartWith("a.ridl: error: internal error in the IDL compiler (please report it): TypeError:");
  });
});
