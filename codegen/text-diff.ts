/**
 * A small unified-style diff for `ringrpc gen --check`: trims the common
 * prefix and suffix and prints the changed middle as one hunk with three
 * lines of context. Not a minimal diff (no LCS): stale generated files
 * usually differ in one region, and this stays linear in the file size.
 */

const CONTEXT = 3;
const MAX_LINES = 200;

export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const from = Math.max(0, start - CONTEXT);
  const toA = Math.min(a.length, endA + CONTEXT);
  const toB = Math.min(b.length, endB + CONTEXT);
  const out: string[] = [`--- ${path} (on disk)`, `+++ ${path} (generated)`, `@@ -${from + 1},${toA - from} +${from + 1},${toB - from} @@`];
  for (let i = from; i < start; i++) out.push(` ${a[i]}`);
  const removed = a.slice(start, endA).map((l) => `-${l}`);
  const added = b.slice(start, endB).map((l) => `+${l}`);
  const body = [...removed, ...added];
  if (body.length > MAX_LINES) {
    out.push(...body.slice(0, MAX_LINES), `... ${body.length - MAX_LINES} more changed lines`);
  } else out.push(...body);
  for (let i = endA; i < toA; i++) out.push(` ${a[i]}`);
  return `${out.join("\n")}\n`;
}
