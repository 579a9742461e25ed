/**
 * The echo servers the raw echo benchmark compares: how to build each one and
 * the command that starts it on a given port. Every contender prints a line
 * matching READY_LINE once it accepts connections. It owns no process
 * handling (server-process.ts) and no measuring (run.ts).
 */

export const READY_LINE = /listening on 127\.0\.0\.1:(\d+)/;

export interface Contender {
  /** Short id used on the command line and in tables: `bun-listen`. */
  readonly name: string;
  /** Builds what the contender needs; throws a BuildError saying what to do. */
  readonly prepare: () => void;
  /** Server argv (without CPU pinning) for this port. */
  readonly command: (port: number) => string[];
  /** What the ready line must also say (ringrpc prints its driver: a silent fallback would mislabel the row). */
  readonly readyMustMatch?: RegExp;
}

export class BuildError extends Error {
  override readonly name = "BuildError";
  readonly code = "ECHO_BENCH_BUILD";
}

const ROOT = new URL("../../", import.meta.url).pathname;
const BUN = `${ROOT}node_modules/.bin/bun`;

export interface BuildOptions {
  /** Said with the first line, e.g. how long a first build takes. */
  readonly note?: string;
  /** Where the progress lines go (default stdout, beside the runs' progress lines). */
  readonly log?: (line: string) => void;
}

/**
 * Runs one build command; throws a BuildError with the tail of its output.
 * Prints a line before it starts and one with its time when it ends, so a
 * first run that compiles for a minute is never silent.
 */
export function runBuild(what: string, argv: string[], cwd: string, opts: BuildOptions = {}): void {
  const log = opts.log ?? ((line: string) => console.log(line));
  log(`build: ${what}${opts.note ? ` (${opts.note})` : ""} ...`);
  const started = performance.now();
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (r.exitCode !== 0) {
    log(`build: ${what}: failed after ${took}`);
    const out = (r.stderr.toString() + r.stdout.toString()).trim().split("\n").slice(-15).join("\n");
    throw new BuildError(`building ${what} failed (${argv.join(" ")} in ${cwd}, exit ${r.exitCode}):\n${out}`);
  }
  log(`build: ${what}: ok, ${took}`);
}

/** Wraps a build step so it runs at most once per process and repeats its failure. */
export function once(fn: () => void): () => void {
  let state: { ok: true } | { ok: false; error: unknown } | null = null;
  return () => {
    if (state === null) {
      try {
        fn();
        state = { ok: true };
      } catch (error) {
        state = { ok: false, error };
      }
    }
    if (!state.ok) throw state.error;
  };
}

export function buildLoadgen(): string {
  runBuild("the load generator", ["make", "-s", "-C", `${ROOT}bench/loadgen`], ROOT);
  return `${ROOT}bench/loadgen/build/loadgen`;
}

const prepareRingrpc = once(() => runBuild("ringrpc (scripts/setup.sh)", ["bash", `${ROOT}scripts/setup.sh`], ROOT));
const prepareTokio = once(() => {
  if (Bun.which("cargo") === null) throw new BuildError("cargo not found: install Rust, then run bench/tokio/setup.sh");
  runBuild("the Tokio echo server (run bench/tokio/setup.sh once first)", ["cargo", "build", "--release", "--offline", "--quiet"], `${ROOT}bench/tokio`);
});

function ringrpc(driver: "uring" | "epoll"): Contender {
  return {
    name: `ringrpc-${driver}`,
    prepare: prepareRingrpc,
    command: (port) => [BUN, `${ROOT}examples/echo/server.ts`, "--port", String(port), "--workers", "1", "--driver", driver],
    readyMustMatch: new RegExp(`\\bdriver=${driver}\\b`),
  };
}

export const CONTENDERS: readonly Contender[] = [
  {
    name: "c-epoll",
    prepare: once(() => runBuild("the C epoll echo server", ["make", "-s", "-C", `${ROOT}bench/echo`], ROOT)),
    command: (port) => [`${ROOT}bench/echo/build/epoll_echo`, "--port", String(port)],
  },
  {
    name: "bun-listen",
    prepare: () => {},
    command: (port) => [BUN, `${ROOT}bench/echo/bun-listen-echo.ts`, "--port", String(port)],
  },
  ringrpc("uring"),
  ringrpc("epoll"),
  {
    name: "tokio-ct",
    prepare: prepareTokio,
    command: (port) => [`${ROOT}bench/tokio/target/release/echo`, "--port", String(port), "--current-thread"],
  },
];

/** The contender every ratio is taken against. */
export const BASELINE = "bun-listen";

export const PROJECT_ROOT = ROOT;
