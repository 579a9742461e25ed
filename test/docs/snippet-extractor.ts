/**
 * Pulls the code blocks the docs test checks out of a markdown file: every
 * ```ts (or ```typescript) block, and every ```ridl block (a named one is
 * generated into gen/ for the same file's snippets). A block may carry one
 * marker, an HTML comment on the line before its fence (invisible when the
 * markdown is rendered; CONTRIBUTING.md, "Docs that run"):
 *
 *   <!-- snippet: fragment: why it cannot stand alone -->   skipped, counted, reason shown
 *   <!-- snippet: server -->                                 type-checked; started for the run snippets
 *   <!-- snippet: run prints "a line" "another" -->          type-checked, then run against the server
 *
 * A first line `// name.ts` (or `// name.ridl`) names the block's file, so
 * another block of the same document can import it. Owns the markdown
 * reading only; nothing here writes files or runs code.
 */

export type SnippetMode = "check" | "fragment" | "server" | "run";

export interface Snippet {
  /** Repository-relative path of the markdown file. */
  readonly doc: string;
  /** 1-based line, in the markdown file, of the block's first code line. */
  readonly line: number;
  readonly lang: "ts" | "ridl";
  /** The block's code, its list indentation removed. */
  readonly code: string;
  readonly mode: SnippetMode;
  /** Why a fragment is skipped (fragments only). */
  readonly reason: string | null;
  /** Text a run snippet's output must contain, one entry per quoted string. */
  readonly prints: readonly string[];
  /** The file name its first line gives (`// store.ts`), or null. */
  readonly name: string | null;
}

/** A marker the extractor cannot read, or one that is not right before a checked block. */
export class SnippetMarkerError extends Error {
  override readonly name = "SnippetMarkerError";
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$/;
const MARKER = /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/;
const LANGS: Record<string, "ts" | "ridl"> = { ts: "ts", typescript: "ts", ridl: "ridl" };

interface Marker {
  readonly mode: Exclude<SnippetMode, "check">;
  readonly reason: string | null;
  readonly prints: string[];
  readonly line: number;
}

function readMarker(text: string, where: string, line: number): Marker {
  const fragment = /^fragment:\s*(\S.*)$/.exec(text);
  if (fragment) return { mode: "fragment", reason: fragment[1]!, prints: [], line };
  if (text === "server") return { mode: "server", reason: null, prints: [], line };
  const run = /^run(?:\s+prints((?:\s+"[^"]*")+))?$/.exec(text);
  if (run) return { mode: "run", reason: null, prints: [...(run[1] ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1]!), line };
  throw new SnippetMarkerError(
    `${where}: unknown snippet marker "${text}" (use "fragment: <reason>", "server", or "run [prints \\"text\\" ...]")`,
  );
}

/** Every ts and ridl block of one markdown file, in order. */
export function extractSnippets(doc: string, markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const out: Snippet[] = [];
  let pending: Marker | null = null;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text);
    if (marker) {
      if (pending) throw new SnippetMarkerError(`${doc}:${pending.line}: snippet marker not followed by a code block`);
      pending = readMarker(marker[1]!, `${doc}:${i + 1}`, i + 1);
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (pending && text.trim() !== "") throw new SnippetMarkerError(`${doc}:${pending.line}: snippet marker not followed by a code block`);
      continue;
    }
    const [, indent, ticks, info] = fence as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^\\s*${ticks[0] === "`" ? "`" : "~"}{${ticks.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    if (j === lines.length) throw new SnippetMarkerError(`${doc}:${i + 1}: code block never closed`);
    const lang = LANGS[info.toLowerCase()];
    if (lang === undefined) {
      if (pending) throw new SnippetMarkerError(`${doc}:${pending.line}: snippet marker before a \`\`\`${info || "(no language)"} block, which is not checked`);
    } else {
      const named = new RegExp(`^//\\s*([\\w./-]+\\.${lang === "ts" ? "ts" : "ridl"})\\b`).exec(body[0] ?? "");
      out.push({
        doc,
        line: i + 2,
        lang,
        code: `${body.join("\n")}\n`,
        mode: pending?.mode ?? "check",
        reason: pending?.reason ?? null,
        prints: pending?.prints ?? [],
        name: named ? named[1]! : null,
      });
    }
    pending = null;
    i = j;
  }
  if (pending) throw new SnippetMarkerError(`${doc}:${pending.line}: snippet marker not followed by a code block`);
  return out;
}
