/**
 * The facts recorded with every benchmark result (STYLE.md: machine, kernel,
 * Bun version, command and date): read once from the OS and the Bun binary
 * the contenders run on. It owns nothing else.
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";

export interface MachineFacts {
  readonly date: string;
  readonly kernel: string;
  readonly bun: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly command: string;
  /** `rustc --version` when a Rust toolchain is installed (the Tokio contender), else null. */
  readonly rustc: string | null;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function machineFacts(bunPath: string, command: string): MachineFacts {
  const bun = Bun.spawnSync([bunPath, "--version"]).stdout.toString().trim() || Bun.version;
  return {
    date: new Date().toISOString(),
    kernel: release(),
    bun,
    cpuModel: cpuModel(),
    cpus: navigator.hardwareConcurrency,
    command,
    rustc: Bun.which("rustc") === null ? null : Bun.spawnSync(["rustc", "--version"]).stdout.toString().trim() || null,
  };
}
