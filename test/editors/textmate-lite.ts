/**
 * A small TextMate tokenizer for the editor grammar's tests: enough of the
 * format to run editors/vscode/syntaxes/ridl.tmLanguage.json over a file
 * (`match` with `captures`, `begin`/`end` across lines with their captures,
 * nested `patterns`, `include` of `#name` and `$self`), with JavaScript
 * regular expressions instead of Oniguruma. At each position the earliest
 * match wins, ties go to the rule listed first, and an open rule's `end`
 * beats its inner patterns, as in VS Code. Owns the tokenizing only; what a
 * token's scopes must be is the tests' business.
 */

export interface Captures {
  readonly [group: string]: { readonly name?: string };
}
export interface Rule {
  readonly include?: string;
  readonly name?: string;
  readonly match?: string;
  readonly captures?: Captures;
  readonly begin?: string;
  readonly end?: string;
  readonly beginCaptures?: Captures;
  readonly endCaptures?: Captures;
  readonly patterns?: readonly Rule[];
}
export interface Grammar {
  readonly scopeName: string;
  readonly patterns: readonly Rule[];
  readonly repository?: Readonly<Record<string, Rule>>;
}
/** A run of text and the scopes it sits in, outermost first (the grammar's own scopeName left out). */
export interface Token {
  readonly text: string;
  readonly scopes: readonly string[];
  /** 1-based line of the token. */
  readonly line: number;
}

/** A rule that can match, with its regexes compiled once. */
interface Compiled {
  readonly rule: Rule;
  readonly re: RegExp;
  readonly end: RegExp | null;
}

/** An open begin/end rule. */
interface Frame {
  readonly compiled: Compiled;
  readonly scopes: readonly string[];
}

/** Thrown when the grammar refers to a repository entry that does not exist. */
export class GrammarError extends Error {
  override readonly name = "GrammarError";
}

function regex(source: string): RegExp {
  return new RegExp(source, "gd");
}

/** Flattens `include`s and pattern groups into the rules that match, in order. */
function flatten(grammar: Grammar, rules: readonly Rule[], cache: Map<Rule, Compiled>, seen: Set<string>): Compiled[] {
  const out: Compiled[] = [];
  for (const rule of rules) {
    if (rule.include !== undefined) {
      if (rule.include === "$self") {
        if (!seen.has("$self")) out.push(...flatten(grammar, grammar.patterns, cache, new Set([...seen, "$self"])));
        continue;
      }
      const key = rule.include.replace(/^#/, "");
      const target = grammar.repository?.[key];
      if (!rule.include.startsWith("#") || target === undefined) throw new GrammarError(`include ${rule.include}: no such repository entry`);
      if (!seen.has(key)) out.push(...flatten(grammar, [target], cache, new Set([...seen, key])));
      continue;
    }
    if (rule.match === undefined && rule.begin === undefined) {
      out.push(...flatten(grammar, rule.patterns ?? [], cache, seen));
      continue;
    }
    let c = cache.get(rule);
    if (c === undefined) {
      c = { rule, re: regex(rule.match ?? rule.begin!), end: rule.begin !== undefined ? regex(rule.end ?? "$^") : null };
      cache.set(rule, c);
    }
    out.push(c);
  }
  return out;
}

/** Splits a match into tokens: the text of each numbered capture gets its name, the rest only `scopes`. */
function captured(m: RegExpExecArray, caps: Captures | undefined, scopes: readonly string[], line: number): Token[] {
  const whole = caps?.["0"]?.name;
  const base = whole === undefined ? scopes : [...scopes, whole];
  const groups: { start: number; end: number; name: string }[] = [];
  const indices = m.indices ?? [];
  for (let g = 1; g < indices.length; g++) {
    const span = indices[g];
    const name = caps?.[String(g)]?.name;
    if (span === undefined || name === undefined || span[0] === span[1]) continue;
    if (groups.some((o) => span[0] < o.end && span[1] > o.start)) continue; // nested captures: the outer one is enough here
    groups.push({ start: span[0], end: span[1], name });
  }
  groups.sort((a, b) => a.start - b.start);
  const out: Token[] = [];
  let at = m.index;
  for (const g of groups) {
    if (g.start > at) out.push({ text: m.input.slice(at, g.start), scopes: base, line });
    out.push({ text: m.input.slice(g.start, g.end), scopes: [...base, g.name], line });
    at = g.end;
  }
  const end = m.index + m[0].length;
  if (end > at) out.push({ text: m.input.slice(at, end), scopes: base, line });
  return out;
}

function execAt(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(text);
}

/** Tokenizes text line by line; begin/end rules (block comments) stay open across lines. */
export function tokenize(grammar: Grammar, text: string): Token[] {
  const cache = new Map<Rule, Compiled>();
  const root = flatten(grammar, grammar.patterns, cache, new Set());
  const inner = new Map<Compiled, Compiled[]>();
  const stack: Frame[] = [];
  const out: Token[] = [];
  const lines = text.split("\n");
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    let pos = 0;
    for (;;) {
      const top = stack[stack.length - 1];
      const scopes = top?.scopes ?? [];
      let rules = root;
      if (top !== undefined) {
        rules = inner.get(top.compiled) ?? flatten(grammar, top.compiled.rule.patterns ?? [], cache, new Set());
        inner.set(top.compiled, rules);
      }
      let best: { m: RegExpExecArray; c: Compiled | null } | null = null;
      if (top !== undefined) {
        const m = execAt(top.compiled.end!, line, pos);
        if (m !== null) best = { m, c: null };
      }
      for (const c of rules) {
        const m = execAt(c.re, line, pos);
        // A zero-length `match` (a bare lookahead) would tokenize nothing: it is not a candidate.
        if (m === null || (m[0].length === 0 && c.end === null)) continue;
        if (best === null || m.index < best.m.index) best = { m, c };
      }
      if (best === null) {
        if (pos < line.length) out.push({ text: line.slice(pos), scopes, line: ln + 1 });
        break;
      }
      const { m, c } = best;
      if (m.index > pos) out.push({ text: line.slice(pos, m.index), scopes, line: ln + 1 });
      if (c === null) {
        out.push(...captured(m, top!.compiled.rule.endCaptures, scopes, ln + 1));
        stack.pop();
      } else if (c.end === null) {
        const named = c.rule.name === undefined ? scopes : [...scopes, c.rule.name];
        out.push(...captured(m, c.rule.captures, named, ln + 1));
      } else {
        const named = c.rule.name === undefined ? scopes : [...scopes, c.rule.name];
        out.push(...captured(m, c.rule.beginCaptures, named, ln + 1));
        stack.push({ compiled: c, scopes: named });
      }
      pos = m.index + m[0].length;
      if (m[0].length === 0 && c === null && pos >= line.length) break;
    }
  }
  return out.filter((t) => t.text.length > 0);
}

/** Every regex source in the grammar (match, begin, end), with where it sits, for compile checks. */
export function grammarRegexes(grammar: Grammar): { where: string; source: string }[] {
  const out: { where: string; source: string }[] = [];
  const visit = (rules: readonly Rule[], where: string): void => {
    rules.forEach((r, i) => {
      const here = `${where}[${i}]`;
      for (const key of ["match", "begin", "end"] as const) {
        const source = r[key];
        if (source !== undefined) out.push({ where: `${here}.${key}`, source });
      }
      visit(r.patterns ?? [], `${here}.patterns`);
    });
  };
  visit(grammar.patterns, "patterns");
  for (const [name, rule] of Object.entries(grammar.repository ?? {})) visit([rule], `repository.${name}`);
  return out;
}
