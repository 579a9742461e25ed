/**
 * A tiny, strict command-line flag parser shared by the CLI and examples:
 * `--name value`, `--name=value` and boolean `--flag`; flags named in
 * `repeated` may be given many times (every value kept, in order), and
 * one-letter `short` aliases (`-H v` for `--header v`) stand for long ones.
 * Unknown flags are an error that names the flag, so typos never pass
 * silently.
 */

export interface FlagSpec {
  /** Flags that take a value. */
  values?: readonly string[];
  /** Flags that are booleans. */
  booleans?: readonly string[];
  /** Value flags that may repeat: every value is kept in `lists`. */
  repeated?: readonly string[];
  /** One-letter aliases: `{ H: "header" }` reads `-H v` as `--header v`. */
  short?: Readonly<Record<string, string>>;
}

export interface ParsedArgs {
  flags: Map<string, string>;
  /** Every value of a repeated flag, in order. */
  lists: Map<string, string[]>;
  bools: Set<string>;
  positionals: string[];
}

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "USAGE";
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const repeated = new Set(spec.repeated ?? []);
  const values = new Set([...(spec.values ?? []), ...repeated]);
  const booleans = new Set(spec.booleans ?? []);
  const out: ParsedArgs = { flags: new Map(), lists: new Map(), bools: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (spec.short !== undefined && /^-[A-Za-z]$/.test(a)) {
      const long = spec.short[a.slice(1)];
      if (long === undefined) throw new UsageError(`unknown option ${a}`);
      a = `--${long}`;
    }
    if (!a.startsWith("--") || a === "--") {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name) && eq < 0) {
      out.bools.add(name);
    } else if (values.has(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      out.flags.set(name, v);
      if (repeated.has(name)) out.lists.set(name, [...(out.lists.get(name) ?? []), v]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/** Integer flag value within [min, max], or the default when absent. */
export function intFlag(args: ParsedArgs, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got "${raw}")`);
  return n;
}
