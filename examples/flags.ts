/**
 * Command-line flags for the example programs, on node:util's parseArgs:
 * `--name value` or `--name=value`, boolean `--flag`, and strict (an unknown
 * flag is a UsageError that names it). Examples import only the package's
 * public entries, so they carry this small helper of their own.
 */
import { parseArgs } from "node:util";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface Flags {
  /** The value of a string flag, or undefined when absent. */
  get(name: string): string | undefined;
  /** Whether a boolean flag was given. */
  has(name: string): boolean;
}

export function readFlags(argv: readonly string[], values: readonly string[], booleans: readonly string[] = []): Flags {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const v of values) options[v] = { type: "string" };
  for (const b of booleans) options[b] = { type: "boolean" };
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    get: (name) => (typeof parsed[name] === "string" ? (parsed[name] as string) : undefined),
    has: (name) => parsed[name] === true,
  };
}

/** An integer flag in [min, max], or dflt when absent. */
export function intFlag(flags: Flags, name: string, dflt: number, min: number, max: number): number {
  const raw = flags.get(name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got "${raw}")`);
  return n;
}

/** --log-format: "text" (default) or "json". */
export function logFormatFlag(flags: Flags): "text" | "json" {
  const raw = flags.get("log-format") ?? "text";
  if (raw !== "text" && raw !== "json") throw new UsageError(`--log-format must be text or json (got "${raw}")`);
  return raw;
}
