/**
 * Diagnostic table: each case compiles one file and asserts the full list of
 * diagnostics (headline text with file:line:col, and the stable codes).
 */
import { describe, expect, test } from "bun:test";
import { compileText, headlines } from "./helpers.ts";

interface Case {
  readonly name: string;
  readonly src: string;
  readonly expect: readonly string[];
  readonly codes: readonly string[];
}

const cases: readonly Case[] = [
  {
    name: "unexpected character",
    src: "package t;\nstruct A { 1: a: i32; } @\n",
    expect: [
      "t.ridl:2:25: error: unexpected character \"@\"",
    ],
    codes: ["E0001"],
  },
  {
    name: "non-ascii character",
    src: "package t;\nstruct A { 1: a: i32; } é\n",
    expect: [
      "t.ridl:2:25: error: unexpected character U+00E9",
    ],
    codes: ["E0001"],
  },
  {
    name: "unterminated string",
    src: "package t;\nconst S: string = \"abc\n;\n",
    expect: [
      "t.ridl:2:19: error: unterminated string literal (missing closing \")",
    ],
    codes: ["E0002"],
  },
  {
    name: "unterminated block comment",
    src: "package t;\n/* never closed\nstruct A {}\n",
    expect: [
      "t.ridl:2:1: error: unterminated block comment (missing */)",
    ],
    codes: ["E0003"],
  },
  {
    name: "invalid number",
    src: "package t;\nstruct A { 12ab: a: i32; }\n",
    expect: [
      "t.ridl:2:12: error: invalid integer literal \"12ab\"",
    ],
    codes: ["E0004"],
  },
  {
    name: "invalid escape",
    src: "package t;\nconst S: string = \"a\\qb\";\n",
    expect: [
      "t.ridl:2:21: error: invalid escape sequence \"\\q\" (use \\n \\t \\r \\\\ \\\" \\' \\0 or \\u{hex})",
    ],
    codes: ["E0005"],
  },
  {
    name: "expected colon",
    src: "package t;\nstruct A {\n  1 a: i32;\n}\n",
    expect: [
      "t.ridl:3:5: error: expected \":\" but found \"a\"",
    ],
    codes: ["E0010"],
  },
  {
    name: "expected type end of file",
    src: "package t;\nstruct A {\n  1: a:",
    expect: [
      "t.ridl:3:8: error: expected a type but found end of file",
    ],
    codes: ["E0010"],
  },
  {
    name: "expected closing brace",
    src: "package t;\nstruct A {\n  1: a: i32;\n",
    expect: [
      "t.ridl:4:1: error: expected \"}\" but found end of file",
    ],
    codes: ["E0010"],
  },
  {
    name: "expected declaration",
    src: "package t;\nfoo bar;\n",
    expect: [
      "t.ridl:2:1: error: expected a declaration (package, import, const, enum, struct, error, union or service) but found \"foo\"",
    ],
    codes: ["E0010"],
  },
  {
    name: "missing semicolon after field",
    src: "package t;\nstruct A { 1: a: i32 2: b: i32; }\n",
    expect: [
      "t.ridl:2:22: error: expected \";\" but found \"2\"",
    ],
    codes: ["E0010"],
  },
  {
    name: "several errors recovered",
    src: "package t;\nstruct A {\n  1 a: i32;\n  2: b i32;\n  3: c: i32;\n}\nstruct B { x }\nstruct C { 1: ok: D; }\n",
    expect: [
      "t.ridl:3:5: error: expected \":\" but found \"a\"",
      "t.ridl:4:8: error: expected \":\" but found \"i32\"",
      "t.ridl:7:12: error: expected a field id (a number) or \"reserved\" but found \"x\"",
      "t.ridl:8:19: error: unknown type \"D\"",
    ],
    codes: ["E0010","E0010","E0010","E0301"],
  },
  {
    name: "missing package",
    src: "struct A { 1: a: i32; }\n",
    expect: [
      "t.ridl:1:1: error: missing package declaration: add \"package <name>;\" at the top of t.ridl",
    ],
    codes: ["E0011"],
  },
  {
    name: "duplicate package",
    src: "package t;\npackage u;\n",
    expect: [
      "t.ridl:2:1: error: duplicate package declaration (first declared at t.ridl:1:9)",
    ],
    codes: ["E0012"],
  },
  {
    name: "package after declaration",
    src: "struct A {}\npackage t;\n",
    expect: [
      "t.ridl:2:1: error: the package declaration must come before imports and declarations",
    ],
    codes: ["E0012"],
  },
  {
    name: "type nesting too deep",
    src: "package t;\nstruct A { 1: a: " + "list<".repeat(40) + "i32" + ">".repeat(40) + "; }\n",
    expect: [
      "t.ridl:2:183: error: type nesting is too deep (more than 32 levels)",
    ],
    codes: ["E0013"],
  },
  {
    name: "duplicate declaration",
    src: "package t;\nstruct A {}\nenum A { X = 0; }\n",
    expect: [
      "t.ridl:3:6: error: duplicate declaration \"A\" (first defined at t.ridl:2:8)",
    ],
    codes: ["E0201"],
  },
  {
    name: "duplicate field name",
    src: "package t;\nstruct A {\n  1: key: string;\n  2: key: string;\n}\n",
    expect: [
      "t.ridl:4:6: error: duplicate field name \"key\" (first defined at t.ridl:3:6)",
    ],
    codes: ["E0202"],
  },
  {
    name: "duplicate field id",
    src: "package t;\nstruct A {\n  1: key: string;\n  1: value: string;\n}\n",
    expect: [
      "t.ridl:4:3: error: duplicate field id 1 (first used by \"key\" at t.ridl:3:6)",
    ],
    codes: ["E0203"],
  },
  {
    name: "duplicate enum value name",
    src: "package t;\nenum E { A = 0; A = 1; }\n",
    expect: [
      "t.ridl:2:17: error: duplicate enum value name \"A\" (first defined at t.ridl:2:10)",
    ],
    codes: ["E0204"],
  },
  {
    name: "duplicate enum number",
    src: "package t;\nenum E { A = 0; B = 0; }\n",
    expect: [
      "t.ridl:2:21: error: duplicate enum value number 0 (already used by \"A\" at t.ridl:2:10)",
    ],
    codes: ["E0205"],
  },
  {
    name: "duplicate method",
    src: "package t;\nstruct R {}\nservice S {\n  get(R) -> R;\n  get(R) -> R;\n}\n",
    expect: [
      "t.ridl:5:3: error: duplicate method name \"get\" (first defined at t.ridl:4:3)",
    ],
    codes: ["E0206"],
  },
  {
    name: "duplicate variant name",
    src: "package t;\nunion U { 1: a: i32; 2: a: string; }\n",
    expect: [
      "t.ridl:2:25: error: duplicate variant name \"a\" (first defined at t.ridl:2:14)",
    ],
    codes: ["E0207"],
  },
  {
    name: "duplicate variant id",
    src: "package t;\nunion U { 1: a: i32; 1: b: string; }\n",
    expect: [
      "t.ridl:2:22: error: duplicate variant id 1 (first used by \"a\" at t.ridl:2:14)",
    ],
    codes: ["E0208"],
  },
  {
    name: "unknown type",
    src: "package t;\nstruct A { 1: b: Bee; }\n",
    expect: [
      "t.ridl:2:18: error: unknown type \"Bee\"",
    ],
    codes: ["E0301"],
  },
  {
    name: "unknown qualified type",
    src: "package t;\nstruct A { 1: b: other.Bee; }\n",
    expect: [
      "t.ridl:2:18: error: unknown type \"other.Bee\"",
    ],
    codes: ["E0301"],
  },
  {
    name: "bad map key",
    src: "package t;\nstruct A { 1: m: map<f64, string>; }\n",
    expect: [
      "t.ridl:2:22: error: map key type must be string, i32, i64, u32 or u64, found \"f64\"",
    ],
    codes: ["E0302"],
  },
  {
    name: "struct map key",
    src: "package t;\nstruct K {}\nstruct A { 1: m: map<K, string>; }\n",
    expect: [
      "t.ridl:3:22: error: map key type must be string, i32, i64, u32 or u64, found \"K\"",
    ],
    codes: ["E0302"],
  },
  {
    name: "method input not a struct",
    src: "package t;\nenum E { A = 0; }\nstruct R {}\nservice S { get(E) -> R; }\n",
    expect: [
      "t.ridl:4:17: error: method input \"E\" must be a struct, but it is an enum",
    ],
    codes: ["E0303"],
  },
  {
    name: "method output not a struct",
    src: "package t;\nunion U { 1: a: i32; }\nstruct R {}\nservice S { get(R) -> stream U; }\n",
    expect: [
      "t.ridl:4:30: error: method output \"U\" must be a struct, but it is a union",
    ],
    codes: ["E0303"],
  },
  {
    name: "throws non-error",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R throws R; }\n",
    expect: [
      "t.ridl:3:32: error: throws \"R\": must be an error declaration, but it is a struct",
    ],
    codes: ["E0304"],
  },
  {
    name: "service used as type",
    src: "package t;\nservice S {}\nstruct A { 1: s: S; }\n",
    expect: [
      "t.ridl:3:18: error: \"S\" is a service, not a type",
    ],
    codes: ["E0305"],
  },
  {
    name: "const used as type",
    src: "package t;\nconst C: i32 = 1;\nstruct A { 1: c: C; }\n",
    expect: [
      "t.ridl:3:18: error: \"C\" is a const, not a type",
    ],
    codes: ["E0305"],
  },
  {
    name: "field id zero",
    src: "package t;\nstruct A { 0: a: i32; }\n",
    expect: [
      "t.ridl:2:12: error: field id 0 is out of range (must be 1 to 536870911)",
    ],
    codes: ["E0401"],
  },
  {
    name: "field id too large",
    src: "package t;\nstruct A { 536870912: a: i32; }\n",
    expect: [
      "t.ridl:2:12: error: field id 536870912 is out of range (must be 1 to 536870911)",
    ],
    codes: ["E0401"],
  },
  {
    name: "reserved id used",
    src: "package t;\nstruct A {\n  reserved 8, 10 to 12;\n  11: a: i32;\n}\n",
    expect: [
      "t.ridl:4:3: error: field id 11 is reserved (at t.ridl:3:3)",
    ],
    codes: ["E0402"],
  },
  {
    name: "reserved name used",
    src: "package t;\nstruct A {\n  reserved \"old\";\n  1: old: i32;\n}\n",
    expect: [
      "t.ridl:4:6: error: field name \"old\" is reserved (at t.ridl:3:3)",
    ],
    codes: ["E0403"],
  },
  {
    name: "reserved range backwards",
    src: "package t;\nstruct A { reserved 12 to 10; }\n",
    expect: [
      "t.ridl:2:21: error: invalid reserved range 12 to 10 (the start must not exceed the end)",
    ],
    codes: ["E0404"],
  },
  {
    name: "reserved id out of range",
    src: "package t;\nstruct A { reserved 0; }\n",
    expect: [
      "t.ridl:2:21: error: reserved field id 0 is out of range (must be 1 to 536870911)",
    ],
    codes: ["E0401"],
  },
  {
    name: "enum value out of range",
    src: "package t;\nenum E { A = 2147483648; }\n",
    expect: [
      "t.ridl:2:14: error: enum value 2147483648 is out of range (must fit in i32: -2147483648 to 2147483647)",
    ],
    codes: ["E0405"],
  },
  {
    name: "enum reserved number",
    src: "package t;\nenum E { reserved 3; A = 3; }\n",
    expect: [
      "t.ridl:2:26: error: enum value number 3 is reserved (at t.ridl:2:10)",
    ],
    codes: ["E0402"],
  },
  {
    name: "default type mismatch",
    src: "package t;\nstruct A { 1: n: u32 = \"ten\"; }\n",
    expect: [
      "t.ridl:2:24: error: default for field \"n\" must be an integer (u32), found string \"ten\"",
    ],
    codes: ["E0501"],
  },
  {
    name: "default bool mismatch",
    src: "package t;\nstruct A { 1: b: bool = 1; }\n",
    expect: [
      "t.ridl:2:25: error: default for field \"b\" must be true or false, found integer 1",
    ],
    codes: ["E0501"],
  },
  {
    name: "default out of range u32",
    src: "package t;\nstruct A { 1: n: u32 = -1; }\n",
    expect: [
      "t.ridl:2:24: error: default for field \"n\" (-1) is out of range for u32 (0 to 4294967295)",
    ],
    codes: ["E0502"],
  },
  {
    name: "default out of range i32",
    src: "package t;\nstruct A { 1: n: i32 = 2147483648; }\n",
    expect: [
      "t.ridl:2:24: error: default for field \"n\" (2147483648) is out of range for i32 (-2147483648 to 2147483647)",
    ],
    codes: ["E0502"],
  },
  {
    name: "default unknown enum value",
    src: "package t;\nenum Color { RED = 0; }\nstruct A { 1: c: Color = PURPLE; }\n",
    expect: [
      "t.ridl:3:26: error: \"PURPLE\" is not a value of enum Color",
    ],
    codes: ["E0503"],
  },
  {
    name: "default on list",
    src: "package t;\nstruct A { 1: l: list<i32> = 1; }\n",
    expect: [
      "t.ridl:2:30: error: default for field \"l\": list<i32> cannot have a default (only bool, integer, f64, string and enum types can)",
    ],
    codes: ["E0504"],
  },
  {
    name: "default on bytes",
    src: "package t;\nstruct A { 1: b: bytes = \"x\"; }\n",
    expect: [
      "t.ridl:2:26: error: default for field \"b\": bytes cannot have a default (only bool, integer, f64, string and enum types can)",
    ],
    codes: ["E0504"],
  },
  {
    name: "default on struct",
    src: "package t;\nstruct B {}\nstruct A { 1: b: B = X; }\n",
    expect: [
      "t.ridl:3:22: error: default for field \"b\": B cannot have a default (only bool, integer, f64, string and enum types can)",
    ],
    codes: ["E0504"],
  },
  {
    name: "const bad type",
    src: "package t;\nconst C: list<i32> = 1;\n",
    expect: [
      "t.ridl:2:10: error: const \"C\" has type list<i32>; a const must be bool, an integer type, f64, string or an enum",
    ],
    codes: ["E0505"],
  },
  {
    name: "const out of range",
    src: "package t;\nconst C: u64 = 18446744073709551616;\n",
    expect: [
      "t.ridl:2:16: error: value of const \"C\" (18446744073709551616) is out of range for u64 (0 to 18446744073709551615)",
    ],
    codes: ["E0502"],
  },
  {
    name: "unknown method option",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R [retry]; }\n",
    expect: [
      "t.ridl:3:26: error: unknown method option \"retry\" (known: idempotent, deadline)",
    ],
    codes: ["E0601"],
  },
  {
    name: "bad deadline unit",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R [deadline = 5m]; }\n",
    expect: [
      "t.ridl:3:37: error: invalid deadline \"5m\": use a whole number of ms or s from 1ms to 2147483647ms, e.g. 500ms or 2s",
    ],
    codes: ["E0602"],
  },
  {
    name: "deadline without value",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R [deadline]; }\n",
    expect: [
      "t.ridl:3:26: error: option \"deadline\" needs a value, e.g. deadline = 500ms",
    ],
    codes: ["E0604"],
  },
  {
    name: "idempotent with value",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R [idempotent = 1]; }\n",
    expect: [
      "t.ridl:3:39: error: option \"idempotent\" takes no value",
    ],
    codes: ["E0604"],
  },
  {
    name: "duplicate option",
    src: "package t;\nstruct R {}\nservice S { get(R) -> R [idempotent, idempotent]; }\n",
    expect: [
      "t.ridl:3:38: error: duplicate option \"idempotent\" (first given at t.ridl:3:26)",
    ],
    codes: ["E0603"],
  },
  {
    name: "unknown error option",
    src: "package t;\nerror E [code = 5] {}\n",
    expect: [
      "t.ridl:2:10: error: unknown error option \"code\" (known: status)",
    ],
    codes: ["E0605"],
  },
  {
    name: "bad error status",
    src: "package t;\nerror E [status = OK] {}\n",
    expect: [
      "t.ridl:2:19: error: unknown status \"OK\" (use a status name from src/rpc/status.ts other than OK, e.g. NOT_FOUND)",
    ],
    codes: ["E0606"],
  },
  {
    name: "unknown enum option",
    src: "package t;\nenum E [open] { A = 0; }\n",
    expect: [
      "t.ridl:2:9: error: unknown enum option \"open\" (known: closed)",
    ],
    codes: ["E0607"],
  },
  {
    name: "closed with a value, and twice",
    src: "package t;\nunion U [closed = true] { 1: a: i32; }\nenum E [closed, closed] { A = 0; }\n",
    expect: [
      "t.ridl:2:19: error: option \"closed\" takes no value",
      "t.ridl:3:17: error: duplicate option \"closed\" (first given at t.ridl:3:9)",
    ],
    codes: ["E0604", "E0603"],
  },
  {
    name: "warning type name",
    src: "package t;\nstruct my_thing {}\n",
    expect: [
      "t.ridl:2:8: warning: type name \"my_thing\" should be PascalCase (e.g. \"MyThing\")",
    ],
    codes: ["W0101"],
  },
  {
    name: "warning field name",
    src: "package t;\nstruct A { 1: userId: string; }\n",
    expect: [
      "t.ridl:2:15: warning: field name \"userId\" should be snake_case (e.g. \"user_id\")",
    ],
    codes: ["W0102"],
  },
  {
    name: "warning enum value",
    src: "package t;\nenum E { red = 0; }\n",
    expect: [
      "t.ridl:2:10: warning: enum value name \"red\" should be UPPER_SNAKE_CASE (e.g. \"RED\")",
    ],
    codes: ["W0103"],
  },
  {
    name: "warning method name",
    src: "package t;\nstruct R {}\nservice S { GetThing(R) -> R; }\n",
    expect: [
      "t.ridl:3:13: warning: method name \"GetThing\" should be lowerCamelCase (e.g. \"getThing\")",
    ],
    codes: ["W0104"],
  },
  {
    name: "warning package name",
    src: "package T.V1;\n",
    expect: [
      "t.ridl:1:9: warning: package name \"T.V1\" should be lower-case words separated by dots (e.g. \"t.v1\")",
    ],
    codes: ["W0105"],
  },
  {
    name: "warning const name",
    src: "package t;\nconst maxKeys: u32 = 1;\n",
    expect: [
      "t.ridl:2:7: warning: const name \"maxKeys\" should be UPPER_SNAKE_CASE (e.g. \"MAX_KEYS\")",
    ],
    codes: ["W0103"],
  },
  {
    name: "astral character outside the BMP",
    src: "package t;\n\u{1F600}\n",
    expect: ["t.ridl:2:1: error: unexpected character U+1F600"],
    codes: ["E0001"],
  },
  {
    name: "declaration named like a built-in type",
    src: "package t;\nstruct string {}\nenum list { A = 0; }\n",
    expect: [
      "t.ridl:2:8: error: \"string\" is a built-in type name and cannot name a declaration",
      "t.ridl:3:6: error: \"list\" is a built-in type name and cannot name a declaration",
    ],
    codes: ["E0209", "E0209"],
  },
];

describe("diagnostics", () => {
  test("the table has at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of cases) {
    test(c.name, () => {
      const r = compileText(c.src);
      expect(headlines(r)).toEqual([...c.expect]);
      expect(r.diagnostics.map((d): string => d.code)).toEqual([...c.codes]);
      const hasError = r.diagnostics.some((d) => d.severity === "error");
      expect(r.model === null).toBe(hasError);
    });
  }
});
