/**
 * The fixture pairs of the wire-truth suite (test/compat-wire/pairs/): one
 * folder per pair, holding `old/` and `new/` (and, for a change whose harm
 * comes later, `before/`, a version whose peers still run, and `later/`, a
 * version check-compat accepts against `new/`), each a set of `.ridl` files.
 * new/'s first comment lines say what changes (`// change:`), what the wire
 * does (`// wire:`) and which rule ids check-compat must report
 * (`// expect: a, b` or `// expect: nothing`). Owns loading, compiling and
 * the checker's verdict; no code generation, no I/O beyond reading the
 * fixtures.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkCompat, compile, type Incompatibility, type Model } from "../../idl/index.ts";

export const PAIRS_DIR = join(import.meta.dir, "pairs");

export type Role = "before" | "old" | "new" | "later";
export const ROLES: readonly Role[] = ["before", "old", "new", "later"];

export interface Version {
  /** `<pair>/<role>`, for messages. */
  readonly label: string;
  readonly dir: string;
  /** The .ridl files of the version, sorted. */
  readonly files: readonly string[];
  readonly model: Model;
}

export interface Pair {
  readonly name: string;
  readonly change: string;
  readonly wire: string;
  /** Rule ids the fixture expects from check-compat, in its order. */
  readonly expect: readonly string[];
  readonly versions: Partial<Record<Role, Version>> & { old: Version; new: Version };
}

function compileVersion(pair: string, role: Role, dir: string): Version {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ridl")).sort().map((f) => join(dir, f));
  const { model, diagnostics } = compile(files);
  if (model === null) throw new Error(`${pair}/${role} does not compile:\n${diagnostics.map((d) => d.message).join("\n")}`);
  return { label: `${pair}/${role}`, dir, files, model };
}

/** `// key: value` from the comment lines at the top of a file. */
function header(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith("//")) break;
    const m = new RegExp(`^//\\s*${key}:\\s*(.*)$`).exec(line);
    if (m !== null) return m[1]!.trim();
  }
  return undefined;
}

export function loadPair(name: string): Pair {
  const root = join(PAIRS_DIR, name);
  const present = new Set(readdirSync(root));
  const versions: Partial<Record<Role, Version>> = {};
  for (const role of ROLES) if (present.has(role)) versions[role] = compileVersion(name, role, join(root, role));
  if (versions.old === undefined || versions.new === undefined) throw new Error(`pair ${name} needs old/ and new/`);
  const text = versions.new.files.map((f) => readFileSync(f, "utf8")).join("\n");
  const expectText = header(text, "expect");
  if (expectText === undefined) throw new Error(`pair ${name}: new/ has no "// expect:" line`);
  return {
    name,
    change: header(text, "change") ?? "",
    wire: header(text, "wire") ?? "",
    expect: expectText === "nothing" ? [] : expectText.split(",").map((s) => s.trim()),
    versions: versions as Pair["versions"],
  };
}

/** Every pair under pairs/, by folder name. */
export function loadPairs(): Pair[] {
  return readdirSync(PAIRS_DIR).sort().map(loadPair);
}

/** check-compat's findings between two versions of a pair (every category; callers filter). */
export function verdict(from: Version, to: Version): Incompatibility[] {
  return checkCompat(from.model, to.model);
}

export const wireRules = (found: readonly Incompatibility[]): string[] => found.filter((f) => f.category === "wire").map((f) => f.rule);
