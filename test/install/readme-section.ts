/**
 * Reads one `## ` section of README.md: its shell commands (each line of its
 * ```sh blocks, without the trailing `# comment`) and its files (each other
 * fenced block whose first line starts with a `// name.ext` comment). The install test
 * runs what the README shows, so the two cannot drift apart. Owns parsing.
 */
import { readFileSync } from "node:fs";

export interface ReadmeSection {
  commands: string[];
  files: Map<string, string>;
}

export function readmeSection(readmePath: string, title: string): ReadmeSection {
  const text = readFileSync(readmePath, "utf8");
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const rest = text.slice(start + 1);
  const next = rest.indexOf("\n## ", 1);
  const body = next < 0 ? rest : rest.slice(0, next);
  const commands: string[] = [];
  const files = new Map<string, string>();
  for (const m of body.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    const [, lang, code] = m as unknown as [string, string, string];
    if (lang === "sh") {
      for (const line of code.split("\n")) {
        const command = line.replace(/\s+#.*$/, "").trim();
        if (command !== "" && !command.startsWith("#")) commands.push(command);
      }
      continue;
    }
    const name = code.match(/^\/\/ ([\w.-]+\.\w+)/)?.[1];
    if (name !== undefined) files.set(name, code);
  }
  return { commands, files };
}
