/**
 * The VS Code extension in editors/vscode/: its three JSON files parse and
 * point at each other, every regex of the TextMate grammar compiles, every
 * word of the language (idl/keywords.ts: keywords, scalar types, options) is
 * highlighted where the IDL uses it, so a new keyword without highlighting
 * fails here, and examples/kv/kv.ridl tokenizes as the IDL compiler reads it
 * (comments, doc comments, field ids, declaration names, durations,
 * statuses). Contextual keywords used as names stay names.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { compile } from "../../idl/index.ts";
import { DURATION_UNITS, ENUM_OPTIONS, ERROR_OPTIONS, KEYWORDS, METHOD_OPTIONS, SCALAR_TYPES, UNION_OPTIONS } from "../../idl/keywords.ts";
import type { Model } from "../../idl/model.ts";
import { grammarRegexes, tokenize, type Grammar, type Token } from "./textmate-lite.ts";

const root = new URL("../..", import.meta.url).pathname;
const ext = `${root}editors/vscode/`;
const fixtures = `${root}test/editors/fixtures/`;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

interface Manifest {
  contributes: {
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { language: string; scopeName: string; path: string }[];
  };
}

const manifest = readJson(`${ext}package.json`) as Manifest;
const grammarPath = `${ext}${manifest.contributes.grammars[0]?.path ?? "(none)"}`;
const grammar = readJson(grammarPath) as Grammar;

const inner = (t: Token): string => t.scopes[t.scopes.length - 1] ?? "";
const isComment = (t: Token): boolean => t.scopes.some((s) => s.startsWith("comment."));
const isString = (t: Token): boolean => t.scopes.some((s) => s.startsWith("string."));
/** The scopes a keyword may take: what themes colour as keywords, types or language constants. */
const KEYWORD_SCOPE = /^(keyword|storage|support\.type|constant\.language)\./;

/** Compiles a fixture; its diagnostics (errors only) must be empty, so the grammar is tested on real IDL. */
function model(path: string): Model {
  const r = compile([path]);
  expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return r.model!;
}

describe("editors/vscode files", () => {
  test("the manifest, language configuration and grammar are valid JSON that point at each other", () => {
    const lang = manifest.contributes.languages[0]!;
    const gram = manifest.contributes.grammars[0]!;
    expect(lang.extensions).toContain(".ridl");
    expect(gram.language).toBe(lang.id);
    expect(gram.scopeName).toBe(grammar.scopeName);
    expect(grammar.scopeName).toBe("source.ridl");
    expect(existsSync(grammarPath)).toBe(true);
    const config = readJson(`${ext}${lang.configuration}`) as { comments: { lineComment: string; blockComment: string[] } };
    expect(config.comments).toEqual({ lineComment: "//", blockComment: ["/*", "*/"] });
  });

  test("every regex of the grammar compiles, with only fixed-length lookbehinds (Oniguruma allows no other)", () => {
    const regexes = grammarRegexes(grammar);
    expect(regexes.length).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const { where, source } of regexes) {
      try {
        new RegExp(source);
      } catch (e) {
        broken.push(`${where}: ${(e as Error).message}`);
      }
      if (/\(\?<[=!](?:[^()\\]|\\.)*[*+{]/.test(source)) broken.push(`${where}: variable-length lookbehind in ${source}`);
    }
    expect(broken).toEqual([]);
  });
});

describe("every word of the language is highlighted", () => {
  const file = `${fixtures}every-word.ridl`;
  model(file);
  const tokens = tokenize(grammar, readFileSync(file, "utf8")).filter((t) => !isComment(t));
  const words: { list: string; words: readonly string[]; scope: RegExp }[] = [
    { list: "KEYWORDS", words: KEYWORDS, scope: KEYWORD_SCOPE },
    { list: "SCALAR_TYPES", words: SCALAR_TYPES, scope: /^support\.type\.primitive\./ },
    { list: "METHOD_OPTIONS", words: METHOD_OPTIONS, scope: /^entity\.other\.attribute-name\./ },
    { list: "ERROR_OPTIONS", words: ERROR_OPTIONS, scope: /^entity\.other\.attribute-name\./ },
    { list: "ENUM_OPTIONS", words: ENUM_OPTIONS, scope: /^entity\.other\.attribute-name\./ },
    { list: "UNION_OPTIONS", words: UNION_OPTIONS, scope: /^entity\.other\.attribute-name\./ },
    { list: "DURATION_UNITS", words: DURATION_UNITS, scope: /^keyword\.other\.unit\./ },
  ];
  for (const { list, words: ws, scope } of words) {
    test(`each of idl/keywords.ts ${list} (${ws.join(", ")})`, () => {
      const missing = ws.filter((w) => !tokens.some((t) => t.text === w && scope.test(inner(t))));
      const unused = missing.filter((w) => !new RegExp(`\\b${w}\\b`).test(readFileSync(file, "utf8").replace(/\/\/.*$/gm, "")));
      // A word the fixture never uses cannot be checked: add a use of it to test/editors/fixtures/every-word.ridl.
      expect(unused).toEqual([]);
      // A word used but not highlighted: add it to editors/vscode/syntaxes/ridl.tmLanguage.json.
      expect(missing).toEqual([]);
    });
  }
});

describe("examples/kv/kv.ridl", () => {
  const file = `${root}examples/kv/kv.ridl`;
  const text = readFileSync(file, "utf8");
  const kv = model(file);
  const tokens = tokenize(grammar, text);
  const language = new Set<string>([...KEYWORDS, ...SCALAR_TYPES, ...METHOD_OPTIONS, ...ERROR_OPTIONS, ...ENUM_OPTIONS, ...UNION_OPTIONS]);

  test("every word of the language in it is highlighted as one", () => {
    const plain = tokens
      .filter((t) => !isComment(t) && !isString(t))
      .flatMap((t) => [...t.text.matchAll(/[A-Za-z_]\w*/g)].map((m) => ({ word: m[0], t })))
      .filter(({ word, t }) => language.has(word) && (t.text !== word || inner(t) === "" || inner(t).startsWith("variable.")))
      .map(({ word, t }) => `line ${t.line}: ${word} as ${JSON.stringify(t.text)} (${inner(t) || "no scope"})`);
    expect(tokens.filter((t) => t.text === "struct").length).toBeGreaterThan(5);
    expect(plain).toEqual([]);
  });

  test("/// lines are doc comments and // lines plain comments", () => {
    const lines = text.split("\n");
    const commentScope = (ln: number) => tokens.find((t) => t.line === ln && t.text.startsWith("//"))?.scopes[0] ?? "none";
    const docLines = lines.flatMap((l, i) => (/^\s*\/\/\/(?!\/)/.test(l) ? [i + 1] : []));
    expect(docLines.length).toBeGreaterThan(5);
    expect(docLines.map(commentScope).filter((s) => s !== "comment.line.documentation.ridl")).toEqual([]);
    const sample = tokenize(grammar, "// plain\n//// four slashes\n/* block\n still */ struct");
    expect(sample.map((t) => `${t.line}:${t.scopes[0] ?? "-"}`)).toEqual([
      "1:comment.line.double-slash.ridl", "1:comment.line.double-slash.ridl",
      "2:comment.line.double-slash.ridl", "2:comment.line.double-slash.ridl",
      "3:comment.block.ridl", "3:comment.block.ridl", "4:comment.block.ridl", "4:comment.block.ridl", "4:-",
    ]);
  });

  test("field and variant ids, declaration names, durations and statuses are what the compiler reads", () => {
    const scoped = (scope: string) => tokens.filter((t) => inner(t) === scope).map((t) => t.text);
    const ids = kv.decls.flatMap((d) => {
      if (d.kind === "struct" || d.kind === "error") return d.fields.map((f) => String(f.id));
      if (d.kind === "union") return d.variants.map((v) => String(v.id));
      return [];
    });
    expect(ids.length).toBeGreaterThan(15);
    expect(scoped("constant.numeric.field-id.ridl")).toEqual(ids);
    expect(scoped("entity.name.type.ridl")).toEqual(kv.decls.filter((d) => d.kind !== "const").map((d) => d.name));
    const deadlines = kv.decls.flatMap((d) => (d.kind === "service" ? d.methods.flatMap((m) => (m.deadlineMs === undefined ? [] : [m.deadlineMs])) : []));
    // A duration is its number (constant.numeric.duration) then its unit (keyword.other.unit) inside it.
    const durations = tokens.flatMap((t, i) => {
      const unit = tokens[i + 1];
      if (inner(t) !== "constant.numeric.duration.ridl" || unit === undefined || inner(unit) !== "keyword.other.unit.ridl") return [];
      return [Number(t.text) * (unit.text === "s" ? 1000 : 1)];
    });
    expect(durations).toEqual(deadlines);
    const statuses = kv.decls.flatMap((d) => (d.kind === "error" ? [d.status] : []));
    expect(scoped("constant.other.status.ridl")).toEqual(statuses);
  });
});

test("contextual keywords used as names are not highlighted as keywords", () => {
  const file = `${fixtures}contextual-names.ridl`;
  model(file);
  const keywordLike = tokenize(grammar, readFileSync(file, "utf8"))
    .filter((t) => !isComment(t) && KEYWORD_SCOPE.test(inner(t)) && (KEYWORDS as readonly string[]).includes(t.text))
    .map((t) => `${t.line}:${t.text}`);
  // Only the declarations' own keywords; every `error`, `map`, `stream`, `reserved`, `list`, `throws`, `import` is a name.
  expect(keywordLike).toEqual(["2:package", "4:struct", "6:enum", "11:service"]);
});
