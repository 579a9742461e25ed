/**
 * `ringrpc check-compat` (src/cli/check-compat.ts): against a directory, a
 * file and a git revision (a throw-away repository in a temp dir), with exit
 * codes 0/1/2; the categories, the four output formats (each parsed), the
 * configuration (package.json field or --config file) and --help.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPAT_RULES } from "../../idl/index.ts";
import { runCheckCompat } from "../../src/cli/check-compat.ts";
import { skipTitle } from "../helpers/skip.ts";
import { parseXml, type XmlElement } from "./xml-tree.ts";

const V1 = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: bytes;\n  3: tag?: common.v1.Tag;\n}\n';
const V2_SAFE = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: bytes;\n  3: tag?: common.v1.Tag;\n  4: extra?: i32;\n}\n';
const V2_BREAK = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: string;\n  3: tag?: common.v1.Tag;\n}\n';
const COMMON_V1 = "package common.v1;\nstruct Tag { 1: name: string; }\n";
const COMMON_V2 = "package common.v1;\nstruct Tag { 1: name: i64; }\n";

const root = mkdtempSync(join(tmpdir(), "ridl-compat-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[], cwd = root): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCheckCompat(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, cwd);
  return { code, out, err };
}


function write(dir: string, files: Record<string, string>): string {
  const d = join(root, dir);
  mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe("check-compat against a directory or a file", () => {
  const old = write("old", { "kv.ridl": V1, "common.ridl": COMMON_V1 });

  test("no breaking change: exit 0", async () => {
    const cur = write("safe", { "kv.ridl": V2_SAFE, "common.ridl": COMMON_V1 });
    const r = await run([join(cur, "kv.ridl"), "--against", old]);
    expect(r).toEqual({ code: 0, out: "", err: "check-compat: no breaking changes\n" });
  });

  test("a breaking change, also in an imported file: exit 1 with both locations", async () => {
    const cur = write("break", { "kv.ridl": V2_BREAK, "common.ridl": COMMON_V2 });
    const r = await run([join(cur, "kv.ridl"), "--against", old]);
    expect(r.code).toBe(1);
    expect(r.out.split("\n")).toEqual([
      `${cur}/kv.ridl:5:6: wire-breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at ${old}/kv.ridl:5:6)`,
      "  fix: add a new field with type string and keep field 2 as bytes",
      `${cur}/common.ridl:2:17: wire-breaking [field-type-changed]: struct common.v1.Tag: field 1 "name" changed type from string to i64 (was at ${old}/common.ridl:2:17)`,
      "  fix: add a new field with type i64 and keep field 1 as string",
      "",
    ]);
    expect(r.err).toBe("check-compat: 2 breaking changes\n");
  });

  test("--format json prints the incompatibilities as one JSON array", async () => {
    const cur = write("break-json", { "kv.ridl": V2_BREAK, "common.ridl": COMMON_V1 });
    const r = await run([join(cur, "kv.ridl"), "--against", old, "--format", "json"]);
    expect(r.code).toBe(1);
    const arr = JSON.parse(r.out);
    expect(arr.map((x: { rule: string }) => x.rule)).toEqual(["field-type-changed"]);
    expect(arr[0].old).toEqual({ file: `${old}/kv.ridl`, line: 5, col: 6 });
  });

  test("against a single file", async () => {
    const cur = write("single", { "kv.ridl": V2_BREAK, "common.ridl": COMMON_V1 });
    const r = await run([join(cur, "kv.ridl"), `--against=${join(old, "kv.ridl")}`]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("[field-type-changed]");
  });

  test("a directory argument expands to its .ridl files", async () => {
    const cur = write("dirarg", { "kv.ridl": V2_SAFE, "common.ridl": COMMON_V1 });
    const r = await run([cur, "--against", old]);
    expect(r.code).toBe(0);
  });

  test("a schema with errors: exit 2 with the diagnostics", async () => {
    const cur = write("broken", { "kv.ridl": "package kv.v1;\nstruct Entry { 1 key: string; }\n" });
    const r = await run([join(cur, "kv.ridl"), "--against", old]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${cur}/kv.ridl:2:18: error: expected ":" but found "key"\nstruct Entry { 1 key: string; }\n                 ^\ncheck-compat: the current schema has errors (see above)\n`,
    );
  });

  test("usage errors: exit 2", async () => {
    expect((await run([join(old, "kv.ridl")])).code).toBe(2);
    expect((await run(["--against", old])).code).toBe(2);
    expect((await run([join(old, "kv.ridl"), "--against", old, "--bogus"])).err).toStartWith("check-compat: unknown option --bogus\n");
    const r = await run([join(old, "kv.ridl"), "--against", join(root, "no-such-ref-or-dir")]);
    expect(r.code).toBe(2);
    expect(r.err).toStartWith(`check-compat: --against "${join(root, "no-such-ref-or-dir")}" is neither a file, a directory nor a git revision\n`);
  });
});

const hasGit = Bun.spawnSync(["git", "--version"]).exitCode === 0;

describe.skipIf(!hasGit)(skipTitle("check-compat against a git revision", hasGit ? null : "git is not installed"), () => {
  const repo = write("repo", { "kv.ridl": V1, "common.ridl": COMMON_V1 });
  const git = (...args: string[]): void => {
    const r = Bun.spawnSync(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", ...args]);
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  };
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "v1");

  test("reads the old versions with git show and labels them with the ref", async () => {
    writeFileSync(join(repo, "kv.ridl"), V2_BREAK);
    writeFileSync(join(repo, "common.ridl"), COMMON_V2);
    const r = await run([join(repo, "kv.ridl"), "--against", "HEAD"]);
    expect(r.code).toBe(1);
    expect(r.out.split("\n")).toEqual([
      `${repo}/kv.ridl:5:6: wire-breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at HEAD:${repo}/kv.ridl:5:6)`,
      "  fix: add a new field with type string and keep field 2 as bytes",
      `${repo}/common.ridl:2:17: wire-breaking [field-type-changed]: struct common.v1.Tag: field 1 "name" changed type from string to i64 (was at HEAD:${repo}/common.ridl:2:17)`,
      "  fix: add a new field with type i64 and keep field 1 as string",
      "",
    ]);
  });

  test("compatible working tree: exit 0; a new file absent from the ref is skipped", async () => {
    writeFileSync(join(repo, "kv.ridl"), V2_SAFE);
    writeFileSync(join(repo, "common.ridl"), COMMON_V1);
    writeFileSync(join(repo, "extra.ridl"), "package extra;\nstruct X {}\n");
    const r = await run([join(repo, "kv.ridl"), join(repo, "extra.ridl"), "--against", "HEAD"]);
    expect(r.err).toBe("check-compat: no breaking changes\n");
    expect(r.code).toBe(0);
  });

  test("github annotations of a removal point at the working-tree file, not the ref", async () => {
    writeFileSync(join(repo, "kv.ridl"), `${V1}struct Gone { 1: x: i32; }\n`);
    writeFileSync(join(repo, "common.ridl"), COMMON_V1);
    git("commit", "-q", "-am", "v1 with Gone");
    writeFileSync(join(repo, "kv.ridl"), V1);
    const r = await run([join(repo, "kv.ridl"), "--against", "HEAD", "--error-format", "github"]);
    expect(r.code).toBe(1);
    expect(r.out.trimEnd().split("\n").map(parseAnnotation)).toEqual([
      { file: `${repo}/kv.ridl`, line: 8, col: 8, title: "source-breaking [type-removed]", message: "struct kv.v1.Gone was removed\nfix: keep struct Gone under its old name" },
    ]);
    const text = await run([join(repo, "kv.ridl"), "--against", "HEAD"]);
    expect(text.out).toStartWith(`HEAD:${repo}/kv.ridl:8:8: source-breaking [type-removed]`);
  });

  test("an unknown revision is a usage error", async () => {
    const r = await run([join(repo, "kv.ridl"), "--against", "no-such-branch"]);
    expect(r.code).toBe(2);
  });
});

/** One `::error file=...,line=...,col=...,title=...::message` line, unescaped. */
function parseAnnotation(line: string): { file: string; line: number; col: number; title: string; message: string } {
  const m = /^::error file=([^,:]+),line=(\d+),col=(\d+),title=([^,:]+)::(.*)$/.exec(line);
  if (m === null) throw new Error(`not a GitHub annotation: ${line}`);
  const unescape = (s: string): string => s.replaceAll("%0A", "\n").replaceAll("%0D", "\r").replaceAll("%3A", ":").replaceAll("%2C", ",").replaceAll("%25", "%");
  return { file: unescape(m[1]!), line: Number(m[2]), col: Number(m[3]), title: unescape(m[4]!), message: unescape(m[5]!) };
}

// A field rename (source only) and a type change (wire) in one step.
const V2_RENAME = V1.replace("1: key: string;", "1: name: string;");
const V2_BOTH = V2_RENAME.replace("2: value: bytes;", "2: value: string;");

describe("categories, formats and configuration", () => {
  const old = write("cfg-old", { "kv.ridl": V1, "common.ridl": COMMON_V1 });
  const cur = write("cfg-cur", { "kv.ridl": V2_BOTH, "common.ridl": COMMON_V1 });
  const renamed = write("cfg-rename", { "kv.ridl": V2_RENAME, "common.ridl": COMMON_V1 });
  const file = join(cur, "kv.ridl");

  test("the default category is source: a rename breaks generated code; --category wire passes it", async () => {
    const source = await run([join(renamed, "kv.ridl"), "--against", old]);
    expect(source.code).toBe(1);
    expect(source.out).toBe(`${renamed}/kv.ridl:4:6: source-breaking [field-renamed]: struct kv.v1.Entry: field 1 was renamed from "key" to "name" (was at ${old}/kv.ridl:4:6)\n  fix: keep the name "key"\n`);
    const wire = await run([join(renamed, "kv.ridl"), "--against", old, "--category", "wire"]);
    expect(wire).toEqual({ code: 0, out: "", err: "check-compat: no breaking changes\n" });
    expect((await run([join(renamed, "kv.ridl"), "--against", old, "--except", "field-renamed"])).code).toBe(0);
  });

  test("json: every finding with its category, declaration and fix", async () => {
    const r = await run([file, "--against", old, "--error-format", "json"]);
    expect(r.code).toBe(1);
    const arr = JSON.parse(r.out) as { rule: string; category: string; decl: string; fix: string }[];
    expect(arr.map((f) => [f.rule, f.category, f.decl])).toEqual([
      ["field-renamed", "source", "kv.v1.Entry"],
      ["field-type-changed", "wire", "kv.v1.Entry"],
    ]);
    expect(arr[1]?.fix).toBe("add a new field with type string and keep field 2 as bytes");
  });

  test("github: one ::error annotation per finding, with file, line, column and the fix", async () => {
    const r = await run([file, "--against", old, "--error-format", "github"]);
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split("\n").map(parseAnnotation);
    expect(lines).toEqual([
      { file, line: 4, col: 6, title: "source-breaking [field-renamed]", message: 'struct kv.v1.Entry: field 1 was renamed from "key" to "name"\nfix: keep the name "key"' },
      { file, line: 5, col: 6, title: "wire-breaking [field-type-changed]", message: 'struct kv.v1.Entry: field 2 "value" changed type from bytes to string\nfix: add a new field with type string and keep field 2 as bytes' },
    ]);
  });

  test("junit: one suite per rule that ran, a failing case per finding, a passing case per clean rule", async () => {
    const r = await run([file, "--against", old, "--error-format", "junit", "--category", "wire"]);
    expect(r.code).toBe(1);
    expect(r.out).toStartWith('<?xml version="1.0" encoding="UTF-8"?>\n');
    const doc = parseXml(r.out);
    expect(doc.name).toBe("testsuites");
    const wireRules = COMPAT_RULES.filter((x) => x.category === "wire").map((x) => x.id);
    expect(doc.children.map((s) => s.attrs.name)).toEqual(wireRules);
    expect(doc.attrs).toEqual({ name: "ringrpc check-compat", tests: String(wireRules.length), failures: "1" });
    const failed = doc.children.filter((s) => s.attrs.failures !== "0");
    expect(failed.map((s) => s.attrs.name)).toEqual(["field-type-changed"]);
    const tc = failed[0]!.children[0]!;
    expect(tc.attrs).toEqual({ classname: "wire", name: "field-type-changed: kv.v1.Entry", file, line: "5" });
    const failure: XmlElement = tc.children[0]!;
    expect(failure.name).toBe("failure");
    expect(failure.attrs.message).toBe('struct kv.v1.Entry: field 2 "value" changed type from bytes to string');
    expect(failure.text).toContain("fix: add a new field with type string");
    for (const s of doc.children.filter((x) => x.attrs.failures === "0")) expect(s.children.map((c) => [c.name, c.children.length])).toEqual([["testcase", 0]]);
  });

  test("a config in the nearest package.json ignores a rule for a named declaration; --config reads a JSON file", async () => {
    const proj = write("cfg-proj", {
      "package.json": JSON.stringify({ name: "p", ringrpcCompat: { ignore: [{ rule: "field-renamed", decl: "kv.v1.Entry" }] } }),
    });
    mkdirSync(join(proj, "sub"), { recursive: true });
    const r = await run([file, "--against", old], join(proj, "sub"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("[field-type-changed]");
    expect(r.out).not.toContain("[field-renamed]");
    expect(r.err).toBe(`check-compat: 1 breaking change (1 more ignored by ringrpcCompat in ${proj}/package.json)\n`);

    const cfg = join(write("cfg-file", { "compat.json": JSON.stringify({ except: ["field-type-changed"], ignore: [{ decl: "kv.v1" }] }) }), "compat.json");
    expect(await run([file, "--against", old, "--config", cfg])).toEqual({ code: 0, out: "", err: `check-compat: no breaking changes (1 more ignored by ${cfg})\n` });
    const otherDecl = join(write("cfg-other", { "c.json": JSON.stringify({ ignore: [{ rule: "field-renamed", decl: "kv.v1.Other" }] }) }), "c.json");
    expect((await run([file, "--against", old, "--config", otherDecl])).out).toContain("[field-renamed]");
  });

  test("unknown rule names in the config or on the command line are errors that say which and suggest one", async () => {
    const proj = write("cfg-bad", { "package.json": JSON.stringify({ ringrpcCompat: { ignore: [{ rule: "field-renammed", decl: "kv.v1.Entry" }] } }) });
    const r = await run([file, "--against", old], proj);
    expect(r).toEqual({
      code: 2,
      out: "",
      err: `check-compat: ringrpcCompat in ${proj}/package.json: ignore[0].rule: unknown rule "field-renammed" (did you mean "field-renamed"?); \`ringrpc check-compat --help\` lists them\n`,
    });
    const bad = join(write("cfg-bad2", { "c.json": JSON.stringify({ use: ["wires"], except: [] }) }), "c.json");
    expect((await run([file, "--against", old, "--config", bad])).err).toBe(`check-compat: ${bad}: use[0]: unknown rule or category "wires" (did you mean "wire"?); \`ringrpc check-compat --help\` lists them\n`);
    const key = join(write("cfg-bad3", { "c.json": JSON.stringify({ ignores: [] }) }), "c.json");
    expect((await run([file, "--against", old, "--config", key])).err).toBe(`check-compat: ${key}: unknown key "ignores" (known: use, except, ignore)\n`);
    expect((await run([file, "--against", old, "--except", "nope"])).err).toStartWith('check-compat: --except: unknown rule "nope"; `ringrpc check-compat --help` lists them\n');
    expect((await run([file, "--against", old, "--category", "json"])).err).toStartWith('check-compat: --category must be wire or source (got "json")\n');
    expect((await run([file, "--against", old, "--error-format", "xml"])).err).toStartWith('check-compat: --error-format must be text, json, github, junit (got "xml")\n');
  });

  test("a package rename is one finding in the output", async () => {
    const v2 = write("cfg-pkg", { "kv.ridl": V1.replace("package kv.v1;", "package kv.v2;"), "common.ridl": COMMON_V1 });
    const r = await run([join(v2, "kv.ridl"), "--against", old]);
    expect(r.out.split("\n").filter((l) => l.includes("-breaking ["))).toEqual([`${v2}/kv.ridl:1:9: source-breaking [package-renamed]: package kv.v1 was renamed to kv.v2 (was at ${old}/kv.ridl:1:9)`]);
  });

  test("--help lists the options, the categories and every rule with its category", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const opt of ["--against", "--category", "--except", "--config", "--error-format", "exit status: 0"]) expect(r.out).toContain(opt);
    const sections = r.out.split("\nrules:\n");
    expect(sections[0]).toContain("\ncategories:\n  wire");
    const ruleLines = sections[1]!.trimEnd().split("\n");
    expect(ruleLines.filter((l) => /^ {2}\w+:$/.test(l))).toEqual(["  wire:", "  source:"]);
    for (const rule of COMPAT_RULES) expect(ruleLines.some((l) => l.trim().startsWith(`${rule.id} `) && l.includes(rule.summary))).toBe(true);
    const sourceAt = ruleLines.indexOf("  source:");
    expect(ruleLines.slice(1, sourceAt).map((l) => l.trim().split(/\s+/)[0])).toEqual(COMPAT_RULES.filter((x) => x.category === "wire").map((x) => x.id));
  });
});
