/**
 * Flags npm swallowed. `npm run bench --quick` (without the `--`) does not
 * pass `--quick` to the script: npm takes it as its own config and runs the
 * script with `npm_config_quick=true` in the environment (npm 11 also warns
 * "Unknown cli config"). This module turns those variables back into the
 * bench's flags when npm is running the `bench` script, and says what it
 * cannot recover: npm reads `--depths 1,32` as a bare `--depths` plus a
 * stray argument, so only the `--name=value` form of a value flag survives.
 * Pure: the environment in, argv and messages out.
 */

/** Flags without a value, as npm leaves them: `--quick` -> "true", `--no-matrix` -> npm_config_matrix="". */
export const SWITCHES = ["quick", "all", "scaling", "codec"] as const;
export const NEGATED = ["matrix", "latency", "js-client"] as const;
/** Flags that take a value: recovered from `--name=value` only. `cpu-at-rate` and `idle-conns` may also stand alone. */
export const VALUED = [
  "contenders", "depths", "method", "size", "conns", "duration", "warmup", "reps", "rate",
  "server-cpu", "loadgen-cpu", "js-depths", "latency-duration", "cpu-at-rate", "idle-conns",
] as const;
const OPTIONAL_VALUE = new Set<string>(["cpu-at-rate", "idle-conns"]);

export interface NpmFlags {
  /** Recovered flags, to put before the script's own arguments. */
  readonly argv: string[];
  /** One line per flag recovered, saying how to pass it directly. */
  readonly notes: string[];
  /** Flags npm broke (a value flag without `=`): the run must stop with these. */
  readonly problems: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const envName = (flag: string) => `npm_config_${flag.replace(/-/g, "_")}`;

/** What npm took from `npm run bench <flags>`; nothing unless npm is running the `bench` script. */
export function npmSwallowedFlags(env: Env): NpmFlags {
  const argv: string[] = [];
  const problems: string[] = [];
  if (env.npm_lifecycle_event !== "bench") return { argv, notes: [], problems };
  for (const flag of SWITCHES) if (env[envName(flag)] === "true") argv.push(`--${flag}`);
  for (const flag of NEGATED) if (env[envName(flag)] === "") argv.push(`--no-${flag}`);
  for (const flag of VALUED) {
    const value = env[envName(flag)];
    if (value === undefined || value === "") continue;
    if (value !== "true") argv.push(`--${flag}`, value);
    else if (OPTIONAL_VALUE.has(flag)) argv.push(`--${flag}`);
    else problems.push(`npm took --${flag} without its value (write \`npm run bench -- --${flag} VALUE\`, or --${flag}=VALUE)`);
  }
  const shown = argv.join(" ");
  const notes = shown === "" ? [] : [`bench: npm passed ${shown} to the script as npm_config_* variables; using them (\`npm run bench -- ${shown}\` passes them directly)`];
  return { argv, notes, problems };
}
