/**
 * `ringrpc bench`: runs the benchmark runner of bench/ with the given
 * options in a child process (so it gets its own pinning and environment)
 * and returns its exit code. The runner itself documents its options
 * (bench/README.md).
 */
import { fileURLToPath } from "node:url";

const runner = fileURLToPath(new URL("../../bench/echo/run.ts", import.meta.url));

export async function runBench(argv: string[]): Promise<number> {
  const proc = Bun.spawn([process.execPath, runner, ...argv], { stdio: ["inherit", "inherit", "inherit"] });
  return await proc.exited;
}
