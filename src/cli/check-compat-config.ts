/**
 * The configuration of `ringrpc check-compat`: which rules run (`use`:
 * categories or rule ids, `except`: rules left out) and which findings are
 * accepted (`ignore`: a rule, or every rule, for a named declaration). Read
 * from a JSON file given with `--config`, else from the `ringrpcCompat`
 * field of the nearest package.json above the working directory. Checks
 * every name against the rule set (idl/compat-rules.ts) and rejects unknown
 * ones with the place and a suggestion. Owns loading, validating and
 * applying the configuration; never prints.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { COMPAT_CATEGORIES, COMPAT_RULES, compatRule, rulesIn, type CompatCategory, type CompatRuleInfo, type Incompatibility } from "../../idl/index.ts";

/** The package.json field that holds the configuration. */
export const CONFIG_FIELD = "ringrpcCompat";

export interface IgnoreEntry {
  /** A rule id; absent: every rule. */
  readonly rule: string | undefined;
  /** A qualified declaration name (`kv.v1.GetRequest`), `Service/method`, or a package prefix (`kv.v1`). */
  readonly decl: string;
}

export interface CompatConfig {
  /** Categories and rule ids to check (default: the `source` category, every rule). */
  readonly use: readonly string[];
  readonly except: readonly string[];
  readonly ignore: readonly IgnoreEntry[];
  /** Where it came from, for messages ("" for the defaults). */
  readonly from: string;
}

export const DEFAULT_CATEGORY: CompatCategory = "source";
export const DEFAULT_CONFIG: CompatConfig = { use: [DEFAULT_CATEGORY], except: [], ignore: [], from: "" };

export class CompatConfigError extends Error {
  override readonly name = "CompatConfigError";
  readonly code = "COMPAT_CONFIG";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** `unknown rule "x" (did you mean "y"?)`, naming `ringrpc check-compat --help` for the list. */
export function unknownRuleMessage(name: string, alsoCategories = false): string {
  const names = [...(alsoCategories ? COMPAT_CATEGORIES : []), ...COMPAT_RULES.map((r) => r.id)];
  const near = names.map((n) => ({ n, d: editDistance(name, n) })).filter((x) => x.d <= 3).sort((a, b) => a.d - b.d)[0];
  const hint = near === undefined ? "" : ` (did you mean "${near.n}"?)`;
  return `unknown ${alsoCategories ? "rule or category" : "rule"} "${name}"${hint}; \`ringrpc check-compat --help\` lists them`;
}

function stringList(v: unknown, where: string, check: (s: string, at: string) => void): string[] {
  if (!Array.isArray(v)) throw new CompatConfigError(`${where}: must be an array of strings`);
  return v.map((s, i) => {
    if (typeof s !== "string") throw new CompatConfigError(`${where}[${i}]: must be a string`);
    check(s, `${where}[${i}]`);
    return s;
  });
}

/** Validates a configuration object; `from` names it in messages. */
export function parseCompatConfig(raw: unknown, from: string): CompatConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CompatConfigError(`${from}: the configuration must be an object with "use", "except" and/or "ignore"`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== "use" && key !== "except" && key !== "ignore") throw new CompatConfigError(`${from}: unknown key "${key}" (known: use, except, ignore)`);
  }
  const ruleOrCategory = (s: string, at: string): void => {
    if (!COMPAT_CATEGORIES.includes(s as CompatCategory) && compatRule(s) === undefined) throw new CompatConfigError(`${from}: ${at}: ${unknownRuleMessage(s, true)}`);
  };
  const ruleOnly = (s: string, at: string): void => {
    if (compatRule(s) === undefined) throw new CompatConfigError(`${from}: ${at}: ${unknownRuleMessage(s)}`);
  };
  const use = obj.use === undefined ? DEFAULT_CONFIG.use : stringList(obj.use, "use", ruleOrCategory);
  const except = obj.except === undefined ? [] : stringList(obj.except, "except", ruleOnly);
  const ignore: IgnoreEntry[] = [];
  if (obj.ignore !== undefined) {
    if (!Array.isArray(obj.ignore)) throw new CompatConfigError(`${from}: ignore: must be an array of { "rule": ..., "decl": ... }`);
    obj.ignore.forEach((e: unknown, i) => {
      const at = `ignore[${i}]`;
      if (typeof e !== "object" || e === null || Array.isArray(e)) throw new CompatConfigError(`${from}: ${at}: must be an object like { "rule": "field-default-changed", "decl": "kv.v1.GetRequest" }`);
      const entry = e as Record<string, unknown>;
      for (const key of Object.keys(entry)) if (key !== "rule" && key !== "decl") throw new CompatConfigError(`${from}: ${at}: unknown key "${key}" (known: rule, decl)`);
      if (typeof entry.decl !== "string" || entry.decl === "") throw new CompatConfigError(`${from}: ${at}: "decl" must name a declaration (e.g. "kv.v1.GetRequest")`);
      if (entry.rule !== undefined && typeof entry.rule !== "string") throw new CompatConfigError(`${from}: ${at}: "rule" must be a string`);
      if (typeof entry.rule === "string") ruleOnly(entry.rule, `${at}.rule`);
      ignore.push({ rule: entry.rule as string | undefined, decl: entry.decl });
    });
  }
  return { use, except, ignore, from };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CompatConfigError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CompatConfigError(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The configuration from `--config FILE` (a package.json: its
 * `ringrpcCompat` field; any other file: the whole JSON), or from the
 * nearest package.json at or above `cwd`, or the defaults.
 */
export function loadCompatConfig(configPath: string | undefined, cwd: string): CompatConfig {
  if (configPath !== undefined) {
    const json = readJson(configPath);
    if (basename(configPath) !== "package.json") return parseCompatConfig(json, configPath);
    const field = (json as Record<string, unknown> | null)?.[CONFIG_FIELD];
    if (field === undefined) throw new CompatConfigError(`${configPath} has no "${CONFIG_FIELD}" field`);
    return parseCompatConfig(field, `${CONFIG_FIELD} in ${configPath}`);
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const field = (readJson(pkg) as Record<string, unknown> | null)?.[CONFIG_FIELD];
      return field === undefined ? DEFAULT_CONFIG : parseCompatConfig(field, `${CONFIG_FIELD} in ${pkg}`);
    }
    if (dirname(dir) === dir) return DEFAULT_CONFIG;
  }
}

/** The rules a configuration checks, in the rule table's order. */
export function activeRules(config: CompatConfig): CompatRuleInfo[] {
  const on = new Set<string>();
  for (const u of config.use) {
    if (COMPAT_CATEGORIES.includes(u as CompatCategory)) for (const r of rulesIn(u as CompatCategory)) on.add(r.id);
    else on.add(u);
  }
  for (const e of config.except) on.delete(e);
  return COMPAT_RULES.filter((r) => on.has(r.id));
}

const declMatches = (pattern: string, decl: string): boolean => decl === pattern || decl.startsWith(`${pattern}.`) || decl.startsWith(`${pattern}/`);

export interface Selection {
  /** The findings to report. */
  readonly findings: Incompatibility[];
  /** How many an `ignore` entry accepted. */
  readonly ignored: number;
}

/** Keeps the findings of active rules that no `ignore` entry accepts. */
export function selectFindings(all: readonly Incompatibility[], config: CompatConfig): Selection {
  const active = new Set(activeRules(config).map((r) => r.id));
  const findings: Incompatibility[] = [];
  let ignored = 0;
  for (const f of all) {
    if (!active.has(f.rule)) continue;
    if (config.ignore.some((e) => (e.rule === undefined || e.rule === f.rule) && declMatches(e.decl, f.decl))) ignored++;
    else findings.push(f);
  }
  return { findings, ignored };
}
