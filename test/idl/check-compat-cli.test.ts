/**
 * `ringrpc check-compat` (src/cli/check-compat.ts): against a directory, a
 * file and a git revision (a throw-away repository in a temp dir), with exit
 * codes 0/1/2 and text/JSON output.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCheckCompat } from "../../src/cli/check-compat.ts";
import { skipTitle } from "../helpers/skip.ts";

const V1 = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: bytes;\n  3: tag?: common.v1.Tag;\n}\n';
const V2_SAFE = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: bytes;\n  3: tag?: common.v1.Tag;\n  4: extra?: i32;\n}\n';
const V2_BREAK = 'package kv.v1;\nimport "common.ridl";\nstruct Entry {\n  1: key: string;\n  2: value: string;\n  3: tag?: common.v1.Tag;\n}\n';
const COMMON_V1 = "package common.v1;\nstruct Tag { 1: name: string; }\n";
const COMMON_V2 = "package common.v1;\nstruct Tag { 1: name: i64; }\n";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCheckCompat(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const root = mkdtempSync(join(tmpdir(), "ridl-compat-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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
      `${cur}/kv.ridl:5:6: breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at ${old}/kv.ridl:5:6)`,
      `${cur}/common.ridl:2:17: breaking [field-type-changed]: struct common.v1.Tag: field 1 "name" changed type from string to i64 (was at ${old}/common.ridl:2:17)`,
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
      `${repo}/kv.ridl:5:6: breaking [field-type-changed]: struct kv.v1.Entry: field 2 "value" changed type from bytes to string (was at HEAD:${repo}/kv.ridl:5:6)`,
      `${repo}/common.ridl:2:17: breaking [field-type-changed]: struct common.v1.Tag: field 1 "name" changed type from string to i64 (was at HEAD:${repo}/common.ridl:2:17)`,
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

  test("an unknown revision is a usage error", async () => {
    const r = await run([join(repo, "kv.ridl"), "--against", "no-such-branch"]);
    expect(r.code).toBe(2);
  });
});
