/**
 * check-tests: a lexical check that keeps the test suite able to fail.
 * Owns the rules below and nothing else; it reads files and never runs them.
 * Run by scripts/test.sh as a step: `bun scripts/check-tests.ts [paths...]`
 * (default: every .ts file under test/, except the generated expected output
 * under test/codegen/golden/). Prints one `file:line: rule: what` line per
 * finding and exits 1 when there is any.
 *
 * Rules (code only: text inside strings and comments never matches):
 * - swallow: a rejection handler that drops the error. The handler of
 *   `.catch(H)`, or the second argument of `.then(A, H)`, is a function whose
 *   body is empty or a bare constant (`{}`, `undefined`, `null`, `void 0`,
 *   `true`, `false`, a number, an empty string or array), with or without a
 *   parameter. Record the error (`errors.push(e)`) and assert the list is
 *   empty, or return it (`(e) => e`) and assert on it.
 * - empty-catch: `catch {}` or `catch (e) {}` with nothing inside, not even a
 *   comment saying why the error does not matter.
 * - no-expect: a `*.test.ts` file with no `expect(` call at all.
 * - skip-reason: `test|it|describe` `.skip(TITLE, …)` or `.skipIf(COND)(TITLE, …)`
 *   where TITLE says no reason. A TITLE says a reason when its text contains
 *   `skipped: ` (e.g. `` `uring echo (skipped: ${reason})` ``) or is built by
 *   `skipTitle(label, reason)` from test/helpers/skip.ts, which appends
 *   " (skipped: reason)" exactly when the test is skipped. One more form is
 *   accepted for `test.skipIf`/`it.skipIf` only (the file-wide `it` wrapper
 *   used by the uring files): the file has a `describe` whose TITLE says the
 *   reason, so every skipped test is reported under "… (skipped: why) >".
 * - only: `.only(` on test/it/describe: it silently drops every other test.
 *
 * KNOWN lists findings in files another engineer owns, each reported to that
 * owner: they are printed ("known: ...") but do not fail the step while their
 * count stays within the entry; one more fails as usual. Remove an entry when
 * its file is fixed (a stale entry is printed as a note).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface Finding {
  file: string;
  line: number;
  rule: "swallow" | "empty-catch" | "no-expect" | "skip-reason" | "only";
  what: string;
}

/**
 * Two copies of `src` with the same length and line breaks: `code` blanks
 * the inside of strings, template text and comments; `withComments` blanks
 * only strings and template text. Quotes and `${ }` code stay.
 */
export function mask(src: string): { code: string; withComments: string } {
  const code = src.split("");
  const withComments = src.split("");
  const blank = (i: number, alsoComments: boolean) => {
    if (src[i] === "\n") return;
    code[i] = " ";
    if (!alsoComments) withComments[i] = " ";
  };
  // Stack of open template literals: each entry counts the `{` nesting of
  // the `${ }` expression we are inside (-1 while in the template's text).
  const templates: number[] = [];
  let i = 0;
  let prev = ""; // last significant code character, for the regex heuristic
  while (i < src.length) {
    const c = src[i]!;
    const top = templates.length > 0 ? templates[templates.length - 1]! : null;
    if (top === -1) {
      // inside template text
      if (c === "\\") {
        blank(i, false);
        if (i + 1 < src.length) blank(i + 1, false);
        i += 2;
      } else if (c === "`") {
        templates.pop();
        prev = "`";
        i++;
      } else if (c === "$" && src[i + 1] === "{") {
        templates[templates.length - 1] = 0;
        prev = "{";
        i += 2;
      } else {
        blank(i, false);
        i++;
      }
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") blank(i++, true);
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      while (i < stop) blank(i++, true);
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") blank(i++, false);
        blank(i++, false);
      }
      i++;
      prev = c;
      continue;
    }
    if (c === "`") {
      templates.push(-1);
      i++;
      continue;
    }
    if (c === "/" && (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev) || /\b(return|typeof|case|in|of)\s*$/.test(src.slice(Math.max(0, i - 8), i)))) {
      // a regular expression literal
      i++;
      let inClass = false;
      while (i < src.length && src[i] !== "\n" && (inClass || src[i] !== "/")) {
        if (src[i] === "\\") blank(i++, false);
        else if (src[i] === "[") inClass = true;
        else if (src[i] === "]") inClass = false;
        blank(i++, false);
      }
      i++;
      prev = "/";
      continue;
    }
    if (top !== null && top >= 0) {
      if (c === "{") templates[templates.length - 1] = top + 1;
      else if (c === "}") {
        if (top === 0) {
          templates[templates.length - 1] = -1;
          i++;
          continue;
        }
        templates[templates.length - 1] = top - 1;
      }
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return { code: code.join(""), withComments: withComments.join("") };
}

/** The top-level arguments of the call whose `(` is at `open` in masked code: [start, end) spans. */
function callArgs(code: string, open: number): { spans: [number, number][]; close: number } {
  const spans: [number, number][] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; i++) {
    const c = code[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) {
        if (code.slice(start, i).trim() !== "") spans.push([start, i]);
        return { spans, close: i };
      }
    } else if (c === "," && depth === 1) {
      spans.push([start, i]);
      start = i + 1;
    }
  }
  return { spans, close: code.length };
}

const TRIVIAL_BODY = String.raw`(?:\{\s*\}|undefined|null|void\s+0|true|false|-?\d+|(["'\x60])\s*\2|\[\s*\])`;
const PARAMS = String.raw`(?:\(\s*(?:[\w$]+\s*(?::\s*[\w$.<>\[\]| ]+)?)?\s*\)|[\w$]+)`;
const SWALLOWING = new RegExp(
  String.raw`^\s*(?:async\s+)?(?:${PARAMS}\s*(?::\s*[\w$<>\[\]| ]+)?\s*=>\s*${TRIVIAL_BODY}|function\s*[\w$]*\s*${PARAMS}\s*\{\s*\})\s*$`,
);

/** True when `fn` (masked source of one argument) is a handler that drops what it gets. */
export function isSwallowing(fn: string): boolean {
  return SWALLOWING.test(fn);
}

export function checkSource(file: string, src: string): Finding[] {
  const { code, withComments } = mask(src);
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const out: Finding[] = [];
  const add = (pos: number, rule: Finding["rule"], what: string) => out.push({ file, line: lineOf(pos), rule, what });

  for (const m of code.matchAll(/\.(catch|then)\s*\(/g)) {
    const open = m.index + m[0].length - 1;
    const { spans } = callArgs(code, open);
    const handler = m[1] === "catch" ? spans[0] : spans[1];
    if (handler === undefined) continue;
    const text = code.slice(handler[0], handler[1]);
    if (isSwallowing(text)) add(m.index, "swallow", `.${m[1]}(${m[1] === "then" ? "…, " : ""}${text.trim()}) drops the error: record it and assert, or return it`);
  }

  for (const m of withComments.matchAll(/(?<!\.\s*)\bcatch\s*(?:\([^)]*\))?\s*\{\s*\}/g)) {
    add(m.index, "empty-catch", "empty catch block: handle the error or say in a comment why it does not matter");
  }

  if (/\.test\.ts$/.test(file) && !/\bexpect\s*\(/.test(code)) add(0, "no-expect", "test file without any expect(): nothing here can fail");

  const titleOf = (open: number): string => {
    const first = callArgs(code, open).spans[0];
    return first === undefined ? "" : src.slice(first[0], first[1]);
  };
  const saysWhy = (title: string) => title.includes("skipped: ") || /\bskipTitle\s*\(/.test(title);
  const describeSaysWhy = [...code.matchAll(/\bdescribe\s*\(/g)].some((m) => saysWhy(titleOf(m.index + m[0].length - 1)));
  for (const m of code.matchAll(/\b(test|it|describe)\s*\.\s*(skip|skipIf|only)\s*\(/g)) {
    const open = m.index + m[0].length - 1;
    if (m[2] === "only") {
      add(m.index, "only", `${m[1]}.only drops every other test`);
      continue;
    }
    let titleOpen = open;
    if (m[2] === "skipIf") {
      const { close } = callArgs(code, open);
      const next = code.slice(close + 1).match(/^\s*\(/);
      if (next === null) continue; // skipIf(cond) stored for later: the call site is checked where it is called with a title
      titleOpen = close + 1 + next[0].length - 1;
    }
    const fileWide = m[2] === "skipIf" && m[1] !== "describe" && describeSaysWhy;
    if (!saysWhy(titleOf(titleOpen)) && !fileWide) {
      add(m.index, "skip-reason", `${m[1]}.${m[2]} without a reason in its title (put "(skipped: why)" in it, or use skipTitle(label, reason))`);
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

function listFiles(path: string, into: string[]): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      if (child.includes(join("codegen", "golden"))) continue;
      listFiles(child, into);
    }
  } else if (path.endsWith(".ts")) into.push(path);
}

/** `file:rule` -> how many such findings are tolerated, and why (see the module doc). */
export const KNOWN: Record<string, { count: number; why: string }> = {};

/** Splits findings into those that fail and those a KNOWN entry tolerates; lists stale entries. */
export function applyKnown(findings: Finding[], known: typeof KNOWN): { failing: Finding[]; tolerated: Finding[]; stale: string[] } {
  const byKey = new Map<string, Finding[]>();
  for (const f of findings) byKey.set(`${f.file}:${f.rule}`, [...(byKey.get(`${f.file}:${f.rule}`) ?? []), f]);
  const failing: Finding[] = [];
  const tolerated: Finding[] = [];
  for (const [key, list] of byKey) {
    if (known[key] !== undefined && list.length <= known[key]!.count) tolerated.push(...list);
    else failing.push(...list);
  }
  const stale = Object.keys(known).filter((k) => (byKey.get(k)?.length ?? 0) < known[k]!.count);
  return { failing, tolerated, stale };
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..");
  const args = process.argv.slice(2);
  const files: string[] = [];
  for (const p of args.length > 0 ? args : [join(root, "test")]) listFiles(p, files);
  const findings = files.flatMap((f) => checkSource(relative(root, f) || f, readFileSync(f, "utf8")));
  const { failing, tolerated, stale } = applyKnown(findings, args.length > 0 ? {} : KNOWN);
  for (const f of tolerated) console.log(`known: ${f.file}:${f.line}: ${f.rule}: ${f.what} (${KNOWN[`${f.file}:${f.rule}`]!.why})`);
  for (const k of stale) console.log(`note: KNOWN entry ${k} has fewer findings now: lower or remove it`);
  for (const f of failing) console.log(`${f.file}:${f.line}: ${f.rule}: ${f.what}`);
  console.log(`check-tests: ${files.length} files, ${failing.length} finding${failing.length === 1 ? "" : "s"}${tolerated.length > 0 ? ` (+${tolerated.length} known)` : ""}`);
  process.exit(failing.length > 0 ? 1 : 0);
}
