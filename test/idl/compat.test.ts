/**
 * Compatibility checker: every breaking rule is detected (exactly, with
 * locations in both versions), and the safe changes are not flagged.
 */
import { describe, expect, test } from "bun:test";
import { checkCompat, formatIncompatibility } from "../../idl/index.ts";
import { modelOf } from "./helpers.ts";

const BASE = `package kv.v1;
enum Color { RED = 0; GREEN = 1; BLUE = 2; reserved 7; }
struct Entry {
  1: key: string;
  2: value: bytes;
  3: version?: u64;
  4: color: Color;
  reserved 8, 10 to 12;
  reserved "old_name";
}
union Shape { 1: entry: Entry; 2: n: i32; reserved 5; }
error KeyNotFound { 1: key: string; }
struct GetRequest { 1: key: string; }
struct GetReply { 1: entry?: Entry; }
service KeyValue {
  get(GetRequest) -> GetReply throws KeyNotFound;
  watch(GetRequest) -> stream GetReply;
}
service Admin { ping(GetRequest) -> GetReply; }
`;

/** Applies literal replacements to BASE (each must match). */
function edit(...pairs: [string, string][]): string {
  let s = BASE;
  for (const [from, to] of pairs) {
    if (!s.includes(from)) throw new Error(`edit: "${from}" not in BASE`);
    s = s.replace(from, to);
  }
  return s;
}

function rules(next: string, base = BASE): string[] {
  return checkCompat(modelOf({ "kv.ridl": base }), modelOf({ "kv.ridl": next })).map((i) => i.rule);
}

/** BASE with Color and Shape [closed]: old readers that reject what they do not know. */
const CLOSED = edit(["enum Color {", "enum Color [closed] {"], ["union Shape {", "union Shape [closed] {"]);

/** Replacements applied to CLOSED (each must match). */
function editClosed(...pairs: [string, string][]): string {
  let s = CLOSED;
  for (const [from, to] of pairs) {
    if (!s.includes(from)) throw new Error(`editClosed: "${from}" not in CLOSED`);
    s = s.replace(from, to);
  }
  return s;
}

describe("checkCompat: safe changes", () => {
  const safe: [string, string][] = [
    ["identical", BASE],
    ["add an optional field with a new id", edit(["4: color: Color;", "4: color: Color;\n  5: extra?: string;"])],
    ["add a method", edit(["watch(GetRequest)", "put(GetRequest) -> GetReply;\n  watch(GetRequest)"])],
    ["add a type and a service", `${BASE}struct New { 1: x: i32; }\nservice More { f(New) -> New; }\n`],
    ["remove an optional field and reserve its id", edit(["  3: version?: u64;\n", ""], ["reserved 8, 10 to 12;", "reserved 3, 8, 10 to 12;"])],
    ["add a required field with a default (a reader fills it in)", edit(["4: color: Color;", "4: color: Color;\n  5: must: i32 = 0;"])],
    ["rename a field (ids are the wire)", edit(["2: value: bytes;", "2: payload: bytes;"])],
    ["rename an enum value (numbers are the wire)", edit(["GREEN = 1;", "VERDE = 1;"])],
    ["change options, docs, defaults and throws", edit(["get(GetRequest) -> GetReply throws KeyNotFound;", "/// doc\n  get(GetRequest) -> GetReply [idempotent, deadline = 1s];"])],
    ["reorder declarations and fields", edit(["  1: key: string;\n  2: value: bytes;\n", "  2: value: bytes;\n  1: key: string;\n"])],
  ];
  for (const [name, next] of safe) {
    test(name, () => expect(rules(next)).toEqual([]));
  }

  test("add an enum value or a union variant to an open type (old readers keep it as unknown)", () => {
    expect(rules(edit(["BLUE = 2;", "BLUE = 2; PINK = 3;"]))).toEqual([]);
    expect(rules(edit(["2: n: i32;", "2: n: i32; 3: s: string;"]))).toEqual([]);
  });

  test("open a closed enum or union (new readers accept more; new writers send only members)", () => {
    expect(rules(BASE, CLOSED)).toEqual([]);
  });
});

describe("checkCompat: open and closed", () => {
  test("adding to a closed enum or union breaks old readers", () => {
    expect(rules(editClosed(["BLUE = 2;", "BLUE = 2; PINK = 3;"]), CLOSED)).toEqual(["enum-value-added"]);
    expect(rules(editClosed(["2: n: i32;", "2: n: i32; 3: s: string;"]), CLOSED)).toEqual(["variant-added"]);
  });

  test("opening while adding is judged by the old readers, which are closed", () => {
    expect(rules(edit(["BLUE = 2;", "BLUE = 2; PINK = 3;"]), CLOSED)).toEqual(["enum-value-added"]);
  });

  test("closing an open enum or union breaks: old peers may send what new ones reject", () => {
    const incs = checkCompat(modelOf({ "kv.ridl": BASE }), modelOf({ "kv.ridl": CLOSED }));
    expect(incs.map((i) => [i.rule, i.message])).toEqual([
      ["type-made-closed", "enum kv.v1.Color became [closed]: new peers reject the unknown values old peers may send or pass on"],
      ["type-made-closed", "union kv.v1.Shape became [closed]: new peers reject the unknown values old peers may send or pass on"],
    ]);
  });

  test("removing stays breaking, open or closed; the message says what new readers do", () => {
    const removeOpen = checkCompat(modelOf({ "kv.ridl": BASE }), modelOf({ "kv.ridl": edit(["GREEN = 1; ", ""], ["2: n: i32; ", ""]) }));
    expect(removeOpen.map((i) => i.message)).toEqual([
      "enum kv.v1.Color: value GREEN = 1 was removed: new peers see only an unknown number when an old peer sends it (and reserve 1)",
      'union kv.v1.Shape: variant 2 "n" was removed: new peers see only an unknown variant when an old peer sends it (and reserve 2)',
    ]);
    const removeClosed = checkCompat(modelOf({ "kv.ridl": CLOSED }), modelOf({ "kv.ridl": editClosed(["GREEN = 1; ", ""]) }));
    expect(removeClosed.map((i) => i.message)).toEqual(["enum kv.v1.Color: value GREEN = 1 was removed: new peers reject it when an old peer sends it (and reserve 1)"]);
  });
});

describe("checkCompat: breaking changes", () => {
  const breaking: [string, string, string[]][] = [
    ["change a field's id", edit(["2: value: bytes;", "9: value: bytes;"]), ["field-id-changed"]],
    ["change a field's type", edit(["2: value: bytes;", "2: value: string;"]), ["field-type-changed"]],
    ["change a field's element type", edit(["4: color: Color;", "4: color: list<Color>;"]), ["field-type-changed"]],
    ["make an optional field required", edit(["3: version?: u64;", "3: version: u64;"]), ["field-made-required"]],
    ["make a required field optional", edit(["1: key: string;\n  2:", "1: key?: string;\n  2:"]), ["field-made-optional"]],
    ["remove a field without reserving it", edit(["  2: value: bytes;\n", ""]), ["field-removed", "required-field-removed"]],
    ["remove a required field and reserve its id (old readers require it)", edit(["  2: value: bytes;\n", ""], ["reserved 8, 10 to 12;", "reserved 2, 8, 10 to 12;"]), ["required-field-removed"]],
    ["add a default to an optional field (absence changes meaning)", edit(["3: version?: u64;", "3: version?: u64 = 0;"]), ["field-default-changed"]],
    ["change an error's status", edit(["error KeyNotFound { 1: key: string; }", "error KeyNotFound [status = NOT_FOUND] { 1: key: string; }"]), ["error-status-changed"]],
    ["remove an enum value and reserve its number (stays breaking)", edit(["GREEN = 1; ", ""], ["reserved 7;", "reserved 1, 7;"]), ["enum-value-removed"]],
    ["remove a variant and reserve its id (stays breaking)", edit(["2: n: i32; ", ""], ["reserved 5;", "reserved 2, 5;"]), ["variant-removed"]],
    ["add a required field", edit(["4: color: Color;", "4: color: Color;\n  5: must: i32;"]), ["required-field-added"]],
    ["reuse a reserved id", edit(["4: color: Color;", "4: color: Color;\n  11: back?: i32;"], ["reserved 8, 10 to 12;", "reserved 8, 10, 12;"]), ["reserved-id-reused"]],
    ["reuse a reserved name", edit(["4: color: Color;", "4: color: Color;\n  5: old_name?: i32;"], ["  reserved \"old_name\";\n", ""]), ["reserved-name-reused"]],
    ["drop a reservation", edit(["reserved 8, 10 to 12;", "reserved 10 to 12;"]), ["reservation-removed"]],
    ["drop a reserved name", edit(["  reserved \"old_name\";\n", ""]), ["reservation-removed"]],
    ["drop an enum reservation", edit([" reserved 7;", ""]), ["reservation-removed"]],
    ["drop a union reservation", edit([" reserved 5;", ""]), ["reservation-removed"]],
    ["remove an enum value", edit(["GREEN = 1; ", ""]), ["enum-value-removed"]],
    ["change an enum value's number", edit(["GREEN = 1;", "GREEN = 3;"]), ["enum-value-number-changed"]],
    ["reuse a reserved enum number", edit(["BLUE = 2; reserved 7;", "BLUE = 2; GOLD = 7;"]), ["reserved-id-reused"]],
    ["remove a union variant", edit(["2: n: i32; ", ""]), ["variant-removed"]],
    ["change a variant's id", edit(["2: n: i32;", "3: n: i32;"]), ["variant-id-changed"]],
    ["change a variant's type", edit(["2: n: i32;", "2: n: i64;"]), ["variant-type-changed"]],
    ["reuse a reserved variant id", edit(["2: n: i32; reserved 5;", "2: n: i32; 5: s: string;"]), ["reserved-id-reused"]],
    ["remove a method", edit(["  watch(GetRequest) -> stream GetReply;\n", ""]), ["method-removed"]],
    ["rename a method", edit(["watch(", "observe("]), ["method-removed"]],
    ["change a method's kind", edit(["watch(GetRequest) -> stream GetReply;", "watch(stream GetRequest) -> stream GetReply;"]), ["method-kind-changed"]],
    ["change a method's input", edit(["watch(GetRequest)", "watch(GetReply)"]), ["method-input-changed"]],
    ["change a method's output", edit(["watch(GetRequest) -> stream GetReply;", "watch(GetRequest) -> stream GetRequest;"]), ["method-output-changed"]],
    ["remove a service", edit(["service Admin { ping(GetRequest) -> GetReply; }\n", ""]), ["service-removed"]],
    ["remove a type", edit(["error KeyNotFound { 1: key: string; }\n", ""], [" throws KeyNotFound", ""]), ["type-removed"]],
    ["change a declaration's kind", edit(["error KeyNotFound { 1: key: string; }", "struct KeyNotFound { 1: key: string; }"], [" throws KeyNotFound", ""]), ["type-kind-changed"]],
    ["change an error's field type", edit(["error KeyNotFound { 1: key: string; }", "error KeyNotFound { 1: key: bytes; }"]), ["field-type-changed"]],
  ];
  for (const [name, next, expected] of breaking) {
    test(name, () => expect(rules(next)).toEqual(expected));
  }

  test("reports locations in both versions", () => {
    const oldM = modelOf({ "old/kv.ridl": BASE });
    const newM = modelOf({ "new/kv.ridl": edit(["  1: key: string;\n", "  /// moved\n  1: key: string;\n"], ["2: value: bytes;", "2: value: string;"]) });
    const incs = checkCompat(oldM, newM);
    expect(incs.length).toBe(1);
    expect(incs[0]).toEqual({
      rule: "field-type-changed",
      message: 'struct kv.v1.Entry: field 2 "value" changed type from bytes to string',
      old: { file: "old/kv.ridl", line: 5, col: 6 },
      new: { file: "new/kv.ridl", line: 6, col: 6 },
    });
    expect(formatIncompatibility(incs[0]!)).toBe(
      'new/kv.ridl:6:6: breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at old/kv.ridl:5:6)',
    );
  });

  test("several breaks are all reported, in the new version's order", () => {
    const next = edit(["GREEN = 1;", "GREEN = 4;"], ["3: version?: u64;", "3: version: u64;"], ["  watch(GetRequest) -> stream GetReply;\n", ""]);
    expect(rules(next)).toEqual(["enum-value-number-changed", "field-made-required", "method-removed"]);
  });

  test("a reserved range shrunk far past its start is found, at the first id it gave up (not only within its first 10,000 ids)", () => {
    const schema = (range: string) => `package p.v1;\nstruct S {\n  1: a: string;\n  reserved ${range};\n}\n`;
    const found = checkCompat(modelOf(schema("30 to 50000")), modelOf(schema("30 to 20000")));
    expect(found.map((f) => [f.rule, f.message])).toEqual([["reservation-removed", "struct p.v1.S: reserved id 20001 is no longer reserved (a later change could reuse it)"]]);
    const split = checkCompat(modelOf(schema("30 to 50000")), modelOf(schema("30 to 39999, 40001 to 50000")));
    expect(split.map((f) => f.message)).toEqual(["struct p.v1.S: reserved id 40000 is no longer reserved (a later change could reuse it)"]);
    expect(checkCompat(modelOf(schema("30 to 50000")), modelOf(schema("30 to 1000, 1001 to 50000")))).toEqual([]);
  });

  test("a removed field's message says how to fix it", () => {
    const incs = checkCompat(modelOf({ "kv.ridl": BASE }), modelOf({ "kv.ridl": edit(["  2: value: bytes;\n", ""]) }));
    expect(incs[0]?.message).toBe('struct kv.v1.Entry: field 2 "value" was removed without reserving its id (add "reserved 2;")');
    expect(incs[0]?.old).toEqual({ file: "kv.ridl", line: 5, col: 6 });
    expect(incs[0]?.new).toEqual({ file: "kv.ridl", line: 3, col: 8 });
  });
});
