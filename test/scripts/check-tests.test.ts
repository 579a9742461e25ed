/**
 * scripts/check-tests.ts, the lexical check that keeps the suite able to
 * fail: bad snippets give exactly the expected findings, good ones none,
 * and the real test/ tree is clean.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyKnown, checkSource, isSwallowing, mask } from "../../scripts/check-tests.ts";

const rules = (file: string, src: string) => checkSource(file, src).map((f) => `${f.line}:${f.rule}`);
const HAS_EXPECT = "expect(1).toBe(1);\n";

describe("swallow", () => {
  test.each([
    ["p.catch" + "(() => {});", "1:swallow"],
    ["p.catch" + "(() => undefined);", "1:swallow"],
    ["p.catch" + "(() => null);", "1:swallow"],
    ["p.catch((_e) => {});", "1:swallow"],
    ["p.catch((e: unknown) => null);", "1:swallow"],
    ["p.catch(async () => {});", "1:swallow"],
    ["p.catch(function () {});", "1:swallow"],
    ["x;\np.then((v) => use(v), () => {});", "2:swallow"],
    ["await listener\n  .close()\n  .catch" + "(() => {\n  });", "3:swallow"],
  ])("%s is found", (src, want) => {
    expect(rules("a.ts", src)).toEqual([want]);
  });

  test.each([
    "p.catch((e) => errors.push(e));",
    "p.catch((e: unknown) => e);",
    "p.then(() => null, (e) => e);", // expecting a rejection: the error is the result
    "p.then(() => null);",
    "p.catch(record(errors));",
    "p.catch((e) => (e.name === 'AbortError' ? null : Promise.reject(e)));",
    "const s = '.catch" + "(() => {})';",
    "// p.catch" + "(() => {})",
    "const t = `${a.catch((e) => e)} and .catch" + "(() => {}) in text`;",
  ])("%s is fine", (src) => {
    expect(rules("a.ts", src)).toEqual([]);
  });

  test("isSwallowing looks at one handler", () => {
    expect(isSwallowing(" () => void 0 ")).toBe(true);
    expect(isSwallowing("() => []")).toBe(true);
    expect(isSwallowing("(e) => { errors.push(e); }")).toBe(false);
  });
});

describe("empty-catch", () => {
  test("an empty catch block is found, with or without a binding", () => {
    expect(rules("a.ts", "try {\n  f();\n} catch {}\ntry { g(); } catch (e) {\n}")).toEqual(["3:empty-catch", "4:empty-catch"]);
  });

  test("a catch block with a comment saying why, or with code, is fine", () => {
    expect(rules("a.ts", "try { f(); } catch {\n  // the fd closed while we looked\n}\ntry { g(); } catch (e) { log(e); }")).toEqual([]);
  });
});

describe("no-expect", () => {
  test("a .test.ts file without expect( is found; a helper is not", () => {
    expect(rules("x.test.ts", 'test("nothing", () => { run(); });')).toEqual(["1:no-expect"]);
    expect(rules("x.test.ts", '// expect(1)\ntest("t", () => { const s = "expect(2)"; });')).toEqual(["1:no-expect"]);
    expect(rules("helper.ts", "export const x = 1;")).toEqual([]);
    expect(rules("x.test.ts", HAS_EXPECT)).toEqual([]);
  });
});

describe("skip-reason and only", () => {
  test.each([
    ['test.skip("uring echo", () => {});', "1:skip-reason"],
    ['describe.skip("uring", () => {});', "1:skip-reason"],
    ['it.skipIf(!ok)("uring echo", () => {});', "1:skip-reason"],
    ["describe.skipIf(noGit)(`git ${x}`, () => {});", "1:skip-reason"],
    ['test.only("one", () => {});', "1:only"],
    ['describe.only("one", () => {});', "1:only"],
  ])("%s is found", (src, want) => {
    expect(rules("x.test.ts", HAS_EXPECT + src)).toEqual([want.replace(/^1:/, "2:")]);
  });

  test.each([
    "test.skip(`uring echo (skipped: ${reason})`, () => {});",
    'test.skipIf(!ok)(skipTitle("uring echo", reason), () => {});',
    'describe.skip(skipTitle(`${title} (uring)`, why), () => {});',
    "const it = test.skipIf(!ok);", // a stored skipIf is checked where it is called
  ])("%s is fine", (src) => {
    expect(rules("x.test.ts", HAS_EXPECT + src)).toEqual([]);
  });

  test("a file-wide skipIf wrapper is fine when a describe title says why, and only then", () => {
    const wrapper = "const it = (n: string, fn: () => void) => test.skipIf(!probe.ok)(n, fn);\n";
    expect(rules("x.test.ts", HAS_EXPECT + wrapper + 'describe(`uring${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, () => {});')).toEqual([]);
    expect(rules("x.test.ts", HAS_EXPECT + wrapper + 'describe("uring", () => {});')).toEqual(["2:skip-reason"]);
  });
});

describe("mask", () => {
  test("blanks strings, template text, comments and regex literals, keeps length, lines and ${} code", () => {
    const src = "a('x.catch(') // c\nb(`t ${f('y')} u`) /* d */; const r = /\\/*x/.test(s)";
    const { code, withComments } = mask(src);
    expect(code.length).toBe(src.length);
    expect(code.split("\n").length).toBe(2);
    expect(code).not.toContain("x.catch");
    expect(code).not.toContain("// c");
    expect(code).toContain("${f(' ')}");
    expect(code).toContain(".test(s)");
    expect(withComments).toContain("// c");
    expect(withComments).toContain("/* d */");
  });
});

describe("KNOWN entries", () => {
  const f = (file: string, line: number) => ({ file, line, rule: "skip-reason" as const, what: "x" });
  const known = { "a.test.ts:skip-reason": { count: 2, why: "owner told" } };

  test("tolerate up to their count, fail beyond it, and report when stale", () => {
    expect(applyKnown([f("a.test.ts", 1), f("a.test.ts", 9)], known)).toEqual({ failing: [], tolerated: [f("a.test.ts", 1), f("a.test.ts", 9)], stale: [] });
    const three = applyKnown([f("a.test.ts", 1), f("a.test.ts", 5), f("a.test.ts", 9)], known);
    expect(three.failing.length).toBe(3);
    expect(applyKnown([f("b.test.ts", 1)], known)).toEqual({ failing: [f("b.test.ts", 1)], tolerated: [], stale: ["a.test.ts:skip-reason"] });
  });
});

test("the repository's test/ tree has no findings beyond the KNOWN ones", () => {
  const proc = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../scripts/check-tests.ts")]);
  const out = proc.stdout.toString();
  expect(out).toMatch(/check-tests: \d+ files, 0 findings/);
  expect(proc.exitCode).toBe(0);
});

test("a bad file on the command line gives one file:line line per finding and exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "check-tests-"));
  try {
    const file = join(dir, "bad.test.ts");
    writeFileSync(file, 'import { test } from "bun:test";\n\ntest("t", async () => {\n  await p.catch' + '(() => {});\n});\n');
    const proc = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../scripts/check-tests.ts"), file]);
    const lines = proc.stdout.toString().trim().split("\n");
    expect(lines.map((l) => l.replace(/^.*bad\.test\.ts:/, "bad.test.ts:"))).toEqual([
      "bad.test.ts:1: no-expect: test file without any expect(): nothing here can fail",
      "bad.test.ts:4: swallow: .catch" + "(() => {}) drops the error: record it and assert, or return it",
      "check-tests: 1 files, 2 findings",
    ]);
    expect(proc.exitCode).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
