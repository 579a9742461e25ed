/**
 * --codec: runs the codec microbenchmark (bench/codec/run.ts, generated codec
 * against msgpackr and zod) in a child process and keeps its printed table for
 * the report and the JSON record. It owns nothing of the codec benchmark itself.
 */
import { PROJECT_ROOT } from "../echo/contenders.ts";

export interface CodecResult {
  readonly ok: boolean;
  readonly output: string;
  readonly error: string | null;
}

const CODEC_TIMEOUT_MS = 300_000;

export async function runCodec(quick: boolean): Promise<CodecResult> {
  const argv = [`${PROJECT_ROOT}node_modules/.bin/bun`, `${PROJECT_ROOT}bench/codec/run.ts`, ...(quick ? ["--rounds", "3", "--ms", "40"] : [])];
  const proc = Bun.spawn(argv, { cwd: PROJECT_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), CODEC_TIMEOUT_MS);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  if (code !== 0) {
    return { ok: false, output: out.trim(), error: `bench/codec/run.ts exited with code ${code}: ${(err || out).trim().slice(-500)}` };
  }
  return { ok: true, output: out.trim(), error: null };
}
