/**
 * Compatibility checker: every breaking rule is detected (exactly, with
 * locations in both versions), and the safe changes are not flagged.
 */
import { describe, expect, test } from "bun:test";
import { checkCompat, COMPAT_RULES, formatIncompatibility, rulesIn } from "../../idl/index.ts";
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

/** Every rule some case below produced: the last test checks the rule table has no rule without a case. */
const seen = new Set<string>();

function check(next: string, base = BASE) {
  const found = checkCompat(modelOf({ "kv.ridl": base }), modelOf({ "kv.ridl": next }));
  for (const f of found) seen.add(f.rule);
  return found;
}

function rules(next: string): string[] {
  return check(next).map((i) => i.rule);
}

/** Only the wire rules, as `--category wire` reports them. */
function wireRules(next: string): string[] {
  return check(next).filter((i) => i.category === "wire").map((i) => i.rule);
}

describe("checkCompat: wire-safe changes (source rules only where generated TypeScript breaks)", () => {
  const safe: [string, string, string[]][] = [
    ["identical", BASE, []],
    ["add an optional field with a new id", edit(["4: color: Color;", "4: color: Color;\n  5: extra?: string;"]), []],
    ["add a method", edit(["watch(GetRequest)", "put(GetRequest) -> GetReply;\n  watch(GetRequest)"]), []],
    ["add a type and a service", `${BASE}struct New { 1: x: i32; }\nservice More { f(New) -> New; }\n`, []],
    ["remove an optional field and reserve its id (the property disappears)", edit(["  3: version?: u64;\n", ""], ["reserved 8, 10 to 12;", "reserved 3, 8, 10 to 12;"]), ["field-removed-and-reserved"]],
    ["add a required field with a default (a reader fills it in; the interface gains a required property)", edit(["4: color: Color;", "4: color: Color;\n  5: must: i32 = 0;"]), ["defaulted-field-added"]],
    ["add an optional field with a default", edit(["4: color: Color;", "4: color: Color;\n  5: may?: i32 = 0;"]), []],
    ["rename a field (ids are the wire)", edit(["2: value: bytes;", "2: payload: bytes;"]), ["field-renamed"]],
    ["rename an enum value (numbers are the wire)", edit(["GREEN = 1;", "VERDE = 1;"]), ["enum-value-renamed"]],
    ["rename a union variant (ids are the wire)", edit(["2: n: i32;", "2: count: i32;"]), ["variant-renamed"]],
    ["change options, docs and throws", edit(["get(GetRequest) -> GetReply throws KeyNotFound;", "/// doc\n  get(GetRequest) -> GetReply [idempotent, deadline = 1s];"]), []],
    ["reorder declarations and fields", edit(["  1: key: string;\n  2: value: bytes;\n", "  2: value: bytes;\n  1: key: string;\n"]), []],
    ["swap a request type for a same-shape struct", edit(["struct GetReply", "struct Lookup { 1: key: string; }\nstruct GetReply"], ["watch(GetRequest)", "watch(Lookup)"]), ["type-reference-changed"]],
    ["rename a struct used by a field (same shape)", edit(["struct Entry {", "struct Item {"], ["1: entry?: Entry;", "1: entry?: Item;"], ["1: entry: Entry;", "1: entry: Item;"]), ["type-reference-changed", "type-reference-changed", "type-removed"]],
    ["rename an error (a peer that does not know the name gets a plain RpcError with the same status)", edit(["error KeyNotFound", "error NoSuchKey"], ["throws KeyNotFound", "throws NoSuchKey"]), ["type-removed"]],
    ["remove an unused struct", `${BASE}struct Gone { 1: x: i32; }\n`, []],
    ["turn an error used nowhere into a struct (same encoding)", edit(["error KeyNotFound { 1: key: string; }", "struct KeyNotFound { 1: key: string; }"], [" throws KeyNotFound", ""]), ["struct-error-swapped"]],
    ["drop a reserved name (names do not travel)", edit(["  reserved \"old_name\";\n", ""]), ["reserved-name-removed"]],
    ["reuse a reserved name (names do not travel)", edit(["4: color: Color;", "4: color: Color;\n  5: old_name?: i32;"], ["  reserved \"old_name\";\n", ""]), ["reserved-name-reused"]],
  ];
  for (const [name, next, expected] of safe) {
    test(name, () => {
      expect(wireRules(next)).toEqual([]);
      expect(rules(next)).toEqual(expected);
    });
  }

  test("consts: removing one or changing its type breaks the source only", () => {
    const base = "package p.v1;\nconst A: i32 = 1;\nconst B: string = \"b\";\n";
    const found = check("package p.v1;\nconst A: i64 = 1;\n", base);
    expect(found.map((f) => [f.rule, f.category, f.message])).toEqual([
      ["const-type-changed", "source", "const p.v1.A changed type from i32 to i64"],
      ["const-removed", "source", "const p.v1.B was removed"],
    ]);
  });

  test("renaming an enum value used as a default keeps the default: it travels as its number", () => {
    const base = "package p.v1;\nenum E { A = 0; B = 1; }\nstruct S { 1: e: E = B; 2: f?: E = B; }\n";
    expect(check(base.replace("B = 1;", "BEE = 1;").replaceAll("= B;", "= BEE;"), base).map((f) => f.rule)).toEqual(["enum-value-renamed"]);
    expect(check(base.replace("2: f?: E = B;", "2: f?: E = A;"), base).map((f) => f.rule)).toEqual(["field-default-changed"]);
  });

  test("a field whose default covers absence may change optionality on the wire; the generated property changes", () => {
    const base = "package p.v1;\nstruct S { 1: n: i32 = 0; 2: m?: i32 = 0; }\n";
    const found = check("package p.v1;\nstruct S { 1: n?: i32 = 0; 2: m: i32 = 0; }\n", base);
    expect(found.map((f) => [f.rule, f.message])).toEqual([
      ["field-optionality-changed", 'struct p.v1.S: field 1 "n" is now optional (a default covers absence, so the wire is fine; the generated property changes to "n?")'],
      ["field-optionality-changed", 'struct p.v1.S: field 2 "m" is now required (a default covers absence, so the wire is fine; the generated property changes to "m")'],
    ]);
  });
});

describe("checkCompat: open and closed enums and unions", () => {
  const ruleList = (next: string, base: string) => check(next, base).map((i) => i.rule);

  test("adding a value or variant to an open type is wire-safe (old readers keep it as unknown); the generated type gains a member", () => {
    const found = [...check(edit(["BLUE = 2;", "BLUE = 2; PINK = 3;"]), BASE), ...check(edit(["2: n: i32;", "2: n: i32; 3: s: string;"]), BASE)];
    expect(found.map((i) => [i.rule, i.category, i.message])).toEqual([
      ["open-enum-value-added", "source", "enum kv.v1.Color: new value PINK = 3 (old peers keep it as an unknown number, so the wire is fine; code that handles every named value stops compiling)"],
      ["open-variant-added", "source", 'union kv.v1.Shape: new variant 3 "s" (old peers keep it as an unknown variant, so the wire is fine; an exhaustive switch on its kind stops compiling)'],
    ]);
  });

  test("opening a closed enum or union is safe (new readers accept more; new writers send only members)", () => {
    expect(ruleList(BASE, CLOSED)).toEqual([]);
  });

  test("adding to a closed enum or union breaks old readers", () => {
    expect(ruleList(editClosed(["BLUE = 2;", "BLUE = 2; PINK = 3;"]), CLOSED)).toEqual(["enum-value-added"]);
    expect(ruleList(editClosed(["2: n: i32;", "2: n: i32; 3: s: string;"]), CLOSED)).toEqual(["variant-added"]);
  });

  test("opening while adding is judged by the old readers, which are closed", () => {
    expect(ruleList(edit(["BLUE = 2;", "BLUE = 2; PINK = 3;"]), CLOSED)).toEqual(["enum-value-added"]);
  });

  test("closing an open enum or union breaks the wire: old peers may send what new ones reject", () => {
    expect(check(CLOSED, BASE).map((i) => [i.rule, i.category, i.message])).toEqual([
      ["type-made-closed", "wire", "enum kv.v1.Color became [closed]: new peers reject the unknown values old peers may send or pass on"],
      ["type-made-closed", "wire", "union kv.v1.Shape became [closed]: new peers reject the unknown values old peers may send or pass on"],
    ]);
  });

  test("removing breaks a closed type, reserved or not, and an open one unless reserved; the message says why", () => {
    expect(check(edit(["GREEN = 1; ", ""], ["2: n: i32; ", ""]), BASE).map((i) => i.message)).toEqual([
      "enum kv.v1.Color: value GREEN = 1 was removed: its number is not reserved, so it may come back with another meaning while old peers still send it",
      'union kv.v1.Shape: variant 2 "n" was removed: its id is not reserved, so it may come back with another type while old peers still send it',
    ]);
    expect(check(editClosed(["GREEN = 1; ", ""]), CLOSED).map((i) => i.message)).toEqual(["enum kv.v1.Color: value GREEN = 1 was removed: new peers reject it when an old peer sends it"]);
    const reservedClosed = editClosed(["GREEN = 1; ", ""], ["reserved 7;", "reserved 1, 7;"], ["2: n: i32; ", ""], ["reserved 5;", "reserved 2, 5;"]);
    expect(ruleList(reservedClosed, CLOSED)).toEqual(["enum-value-removed", "variant-removed"]);
  });

  test("removing from an open type and reserving is wire-safe (new readers keep it as unknown, as old ones keep an addition)", () => {
    const found = check(edit(["GREEN = 1; ", ""], ["reserved 7;", "reserved 1, 7;"], ["2: n: i32; ", ""], ["reserved 5;", "reserved 2, 5;"]), BASE);
    expect(found.map((i) => [i.rule, i.category, i.message])).toEqual([
      ["enum-value-removed-and-reserved", "source", "enum kv.v1.Color: value GREEN = 1 was removed (its number is reserved and new peers keep it as an unknown number, so the wire is fine; the generated member is gone)"],
      ["variant-removed-and-reserved", "source", 'union kv.v1.Shape: variant 2 "n" was removed (its id is reserved and new peers keep it as an unknown variant, so the wire is fine; the generated kind is gone)'],
    ]);
  });
});

describe("checkCompat: declarations swapped or moved are judged by their wire shape", () => {
  test("a request swapped for a struct of another shape breaks the wire and says why", () => {
    const found = check(edit(["struct GetReply", "struct Lookup { 1: key: bytes; }\nstruct GetReply"], ["watch(GetRequest)", "watch(Lookup)"]));
    expect(found.map((f) => [f.rule, f.category, f.message, f.fix])).toEqual([
      ["method-input-changed", "wire", 'method kv.v1.KeyValue/watch changed input from kv.v1.GetRequest to kv.v1.Lookup: struct kv.v1.Lookup: field 1 "key" changed type from string to bytes', "keep input kv.v1.GetRequest (add a new method for kv.v1.Lookup)"],
    ]);
    expect(found[0]?.decl).toBe("kv.v1.KeyValue/watch");
  });

  test("a same-shape swap names both types and the removed one points at its twin", () => {
    const found = check(edit(["struct Entry {", "struct Item {"], ["1: entry?: Entry;", "1: entry?: Item;"], ["1: entry: Entry;", "1: entry: Item;"]));
    expect(found.map((f) => [f.rule, f.message])).toEqual([
      ["type-reference-changed", 'union kv.v1.Shape: variant 1 "entry" changed type from kv.v1.Entry to kv.v1.Item, which has the same wire shape'],
      ["type-reference-changed", 'struct kv.v1.GetReply: field 1 "entry" changed type from kv.v1.Entry to kv.v1.Item, which has the same wire shape'],
      ["type-removed", "struct kv.v1.Entry was removed (renamed to kv.v1.Item? it has the same wire shape)"],
    ]);
  });

  test("a field's struct swapped for one of another shape is a wire break (a recursive type does not loop)", () => {
    const base = "package p.v1;\nstruct Node { 1: next?: Node; 2: v: i32; }\nstruct Root { 1: n: Node; }\n";
    const same = check("package p.v1;\nstruct Tree { 1: next?: Tree; 2: v: i32; }\nstruct Root { 1: n: Tree; }\n", base);
    expect(same.map((f) => f.rule)).toEqual(["type-reference-changed", "type-removed"]);
    const other = check("package p.v1;\nstruct Tree { 1: next?: Tree; 2: v: i64; }\nstruct Root { 1: n: Tree; }\n", base);
    expect(other.map((f) => [f.rule, f.message])).toEqual([
      ["field-type-changed", 'struct p.v1.Root: field 1 "n" changed type from p.v1.Node to p.v1.Tree: struct p.v1.Tree: field 2 "v" changed type from i32 to i64'],
      ["type-removed", "struct p.v1.Node was removed"],
    ]);
  });

  test("a package rename is reported once; its declarations are still compared; its services' paths change on the wire", () => {
    const v2 = BASE.replace("package kv.v1;", "package kv.v2;").replace("2: value: bytes;", "2: value: string;");
    const found = check(v2);
    expect(found.map((f) => [f.rule, f.category, f.decl])).toEqual([
      ["package-renamed", "source", "kv.v1"],
      ["field-type-changed", "wire", "kv.v2.Entry"],
      ["service-removed", "wire", "kv.v1.KeyValue"],
      ["service-removed", "wire", "kv.v1.Admin"],
    ]);
    expect(found[0]?.message).toBe("package kv.v1 was renamed to kv.v2");
    expect(found[0]?.new).toEqual({ file: "kv.ridl", line: 1, col: 9 });
    expect(found[2]?.message).toBe("service kv.v1.KeyValue was removed (its package was renamed to kv.v2): old clients calling it get UNIMPLEMENTED");
  });

  test("a package rename without services is wire-safe", () => {
    const base = "package a.v1;\nstruct X { 1: y: Y; }\nstruct Y { 1: n: i32; }\nenum E { A = 0; }\n";
    const found = check(base.replace("a.v1", "b.v1"), base);
    expect(found.map((f) => f.rule)).toEqual(["package-renamed"]);
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
    ["add a required field", edit(["4: color: Color;", "4: color: Color;\n  5: must: i32;"]), ["required-field-added"]],
    ["reuse a reserved id", edit(["4: color: Color;", "4: color: Color;\n  11: back?: i32;"], ["reserved 8, 10 to 12;", "reserved 8, 10, 12;"]), ["reserved-id-reused"]],
    ["drop a reservation", edit(["reserved 8, 10 to 12;", "reserved 10 to 12;"]), ["reservation-removed"]],
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
    ["reuse a reserved id in an enum that also renames", edit(["BLUE = 2; reserved 7;", "AZUL = 2; GOLD = 7;"]), ["enum-value-renamed", "reserved-id-reused"]],
    ["change a declaration's kind", edit(["union Shape { 1: entry: Entry; 2: n: i32; reserved 5; }", "struct Shape { 1: entry: Entry; 2: n: i32; reserved 5; }"]), ["type-kind-changed"]],
    ["change an error's field type", edit(["error KeyNotFound { 1: key: string; }", "error KeyNotFound { 1: key: bytes; }"]), ["field-type-changed"]],
  ];
  for (const [name, next, expected] of breaking) {
    test(name, () => {
      expect(rules(next)).toEqual(expected);
      expect(wireRules(next).length).toBeGreaterThan(0);
    });
  }

  test("reports locations in both versions", () => {
    const oldM = modelOf({ "old/kv.ridl": BASE });
    const newM = modelOf({ "new/kv.ridl": edit(["  1: key: string;\n", "  /// moved\n  1: key: string;\n"], ["2: value: bytes;", "2: value: string;"]) });
    const incs = checkCompat(oldM, newM);
    expect(incs.length).toBe(1);
    expect(incs[0]).toEqual({
      rule: "field-type-changed",
      category: "wire",
      decl: "kv.v1.Entry",
      message: 'struct kv.v1.Entry: field 2 "value" changed type from bytes to string',
      fix: "add a new field with type string and keep field 2 as bytes",
      old: { file: "old/kv.ridl", line: 5, col: 6 },
      new: { file: "new/kv.ridl", line: 6, col: 6 },
    });
    expect(formatIncompatibility(incs[0]!)).toBe(
      'new/kv.ridl:6:6: wire-breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at old/kv.ridl:5:6)\n' +
        "  fix: add a new field with type string and keep field 2 as bytes",
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

  test("each finding carries the fix that applies to it", () => {
    const fixes = (next: string): [string, string | undefined][] => check(next).map((f) => [f.rule, f.fix]);
    expect(fixes(edit(["  2: value: bytes;\n", ""]))).toEqual([
      ["field-removed", 'add `reserved 2;` to struct kv.v1.Entry (and `reserved "value";` to keep the name from coming back)'],
      ["required-field-removed", "first make it optional (`2: value?: bytes;`), deploy that everywhere, then remove it and add `reserved 2;`"],
    ]);
    expect(fixes(edit(["  1: key: string;\n", ""], ["reserved 8, 10 to 12;", "reserved 1, 8, 10 to 12;"]))).toEqual([
      ["required-field-removed", 'first make it optional (`1: key?: string;`) or give it a default (`1: key: string = "";`), deploy that everywhere, then remove it and add `reserved 1;`'],
    ]);
    expect(fixes(edit(["4: color: Color;", "4: color: Color;\n  5: must: i32;"]))).toEqual([["required-field-added", "give it a default (`5: must: i32 = 0;`) or make it optional (`5: must?: i32;`)"]]);
    expect(fixes(edit(["4: color: Color;", "4: color: Color;\n  5: tint: Color;"]))).toEqual([["required-field-added", "give it a default (`5: tint: kv.v1.Color = RED;`) or make it optional (`5: tint?: kv.v1.Color;`)"]]);
    expect(fixes(edit(["4: color: Color;", "4: color: Color;\n  5: blob: bytes;"]))).toEqual([["required-field-added", "make it optional (`5: blob?: bytes;`)"]]);
    expect(fixes(edit(["4: color: Color;", "4: color: Color;\n  5: must: i32 = 0;"]))).toEqual([["defaulted-field-added", "make it optional (`5: must?: i32 = 0;`): the default still applies"]]);
    expect(fixes(edit(["3: version?: u64;", "3: version: u64;"]))).toEqual([["field-made-required", "give it a default (`3: version: u64 = 0;`) or keep it optional"]]);
    expect(fixes(edit(["3: version?: u64;", "3: version?: u64 = 7;"]))).toEqual([["field-default-changed", "remove the default"]]);
    expect(fixes(edit(["error KeyNotFound {", "error KeyNotFound [status = NOT_FOUND] {"]))).toEqual([["error-status-changed", "keep `[status = FAILED_PRECONDITION]`"]]);
    expect(fixes(edit(["GREEN = 1; ", ""]))).toEqual([["enum-value-removed", "keep GREEN = 1 until no peer sends it; then remove it and add `reserved 1;`"]]);
    expect(fixes(edit(["2: n: i32; ", ""]))).toEqual([["variant-removed", 'keep variant "n" until no peer sends it; then remove it and add `reserved 2;`']]);
    expect(fixes(edit(["reserved 8, 10 to 12;", "reserved 8;"]))).toEqual([["reservation-removed", "keep `reserved 10 to 12;`"]]);
    expect(fixes(edit(["  reserved \"old_name\";\n", ""]))).toEqual([["reserved-name-removed", 'keep `reserved "old_name";`']]);
  });

  test("a removed field's message says what happened and where", () => {
    const incs = checkCompat(modelOf({ "kv.ridl": BASE }), modelOf({ "kv.ridl": edit(["  2: value: bytes;\n", ""]) }));
    expect(incs[0]?.message).toBe('struct kv.v1.Entry: field 2 "value" was removed without reserving its id');
    expect(incs[0]?.old).toEqual({ file: "kv.ridl", line: 5, col: 6 });
    expect(incs[0]?.new).toEqual({ file: "kv.ridl", line: 3, col: 8 });
  });
});

describe("the rule set", () => {
  test("ids are unique, each rule has one category, a summary, a wire reason and a fix", () => {
    expect(new Set(COMPAT_RULES.map((r) => r.id)).size).toBe(COMPAT_RULES.length);
    for (const r of COMPAT_RULES) {
      expect(["wire", "source"]).toContain(r.category);
      expect(r.summary.length * r.wire.length * r.fix.length).toBeGreaterThan(0);
    }
    expect(rulesIn("wire").every((r) => r.category === "wire")).toBe(true);
    expect(rulesIn("source").length).toBe(COMPAT_RULES.length);
  });

  test("every rule in the table is produced by some case above", () => {
    expect(COMPAT_RULES.map((r) => r.id).filter((id) => !seen.has(id))).toEqual([]);
  });
});
