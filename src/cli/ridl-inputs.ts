/**
 * Expands the .ridl inputs of a CLI command: a directory becomes every .ridl
 * file below it (sorted, so output order is deterministic); a file passes
 * through unchanged (a missing one is reported later by the compiler).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function expandRidlInputs(inputs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".ridl")) out.push(p);
    }
  };
  for (const i of inputs) {
    if (existsSync(i) && statSync(i).isDirectory()) walk(i);
    else out.push(i);
  }
  return out;
}
