/**
 * Source text and positions: turns a text offset into a 1-based line and
 * column, and fetches the text of one line for diagnostics. Line tables are
 * computed once per text object and cached (WeakMap), so repeated lookups are
 * O(log lines). Owns nothing else.
 */
import type { Model, Pos } from "./model.ts";

/** Anything with a path and a text: a loaded file or a model SourceFile. */
export interface SourceText {
  readonly path: string;
  readonly text: string;
}

export interface Location {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units from the start of the line. */
  readonly col: number;
}

const lineTables = new WeakMap<SourceText, number[]>();

function lineStarts(src: SourceText): number[] {
  let starts = lineTables.get(src);
  if (starts === undefined) {
    starts = [0];
    const text = src.text;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    lineTables.set(src, starts);
  }
  return starts;
}

/** Line and column of `offset` in `src` (offset clamped to the text). */
export function lineCol(src: SourceText, offset: number): Location {
  const starts = lineStarts(src);
  const off = Math.max(0, Math.min(offset, src.text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= off) lo = mid;
    else hi = mid - 1;
  }
  return { file: src.path, line: lo + 1, col: off - (starts[lo] ?? 0) + 1 };
}

/** Text of 1-based line `line`, without its line break. */
export function lineText(src: SourceText, line: number): string {
  const starts = lineStarts(src);
  const start = starts[line - 1];
  if (start === undefined) return "";
  const next = starts[line];
  let end = next === undefined ? src.text.length : next - 1;
  if (end > start && src.text.charCodeAt(end - 1) === 13) end--;
  return src.text.slice(start, end);
}

/** Location of a model position; falls back to line 1 col 1 for an unknown file. */
export function locate(model: Model, pos: Pos): Location {
  const file = model.files.find((f) => f.path === pos.file);
  if (file === undefined) return { file: pos.file, line: 1, col: 1 };
  return lineCol(file, pos.offset);
}

/** "file:line:col" for a location. */
export function formatLocation(loc: Location): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}
