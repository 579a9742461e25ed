/**
 * `ringrpc bench`: runs the RPC benchmark matrix (bench/run.ts) with the given
 * options in a child process (so it gets its own pinning and environment)
 * and returns its exit code. The runner documents its options
 * (bench/README.md, `ringrpc bench --help`).
 */
import { fileURLToPath } from "node:url";

const runner = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));

export async function runBench(argv: string[]): Promise<number> {
  const proc = Bun.spawn([process.execPath, runner, ...argv], { stdio: ["inherit", "inherit", "inherit"] });
  return await proc.exited;
}
