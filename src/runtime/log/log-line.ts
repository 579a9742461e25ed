/**
 * The two line formats of ringrpc's own logger (logger.ts): `text`, one
 * logfmt line per event (`time=... level=info msg="..." event=start
 * driver=uring`), and `json`, one JSON object per line with the same keys.
 * Owns only the wording of a line: escaping, key order, how an Error is
 * written (its name, message and stack as fields, never across lines).
 */

export type LogLevel = "info" | "warn" | "error";

/** One event: its fields (pino's merging object) and its human message. */
export type LogFields = Record<string, unknown>;

/** The event as a logfmt line: time, level and msg first, then the fields in their order. */
export function textLine(level: LogLevel, fields: LogFields, msg: string, now: Date = new Date()): string {
  let line = `time=${now.toISOString()} level=${level} msg=${logfmtValue(msg)}`;
  for (const [k, v] of flatten(fields)) line += ` ${k}=${logfmtValue(v)}`;
  return line;
}

/** The event as one JSON object: time, level, msg, then the fields (an Error as { type, message, stack }). */
export function jsonLine(level: LogLevel, fields: LogFields, msg: string, now: Date = new Date()): string {
  const out: Record<string, unknown> = { time: now.toISOString(), level, msg };
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? errorFields(v) : v;
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The parts of an Error a log keeps (pino's std serializer keeps the same three). */
export function errorFields(e: Error): { type: string; message: string; stack: string } {
  return { type: e.name, message: e.message, stack: e.stack ?? "" };
}

/** Fields as logfmt pairs; an Error or a plain object becomes `key.sub` pairs. */
function flatten(fields: LogFields): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const inner = v instanceof Error ? errorFields(v) : v;
    if (inner !== null && typeof inner === "object" && !Array.isArray(inner) && !(inner instanceof Uint8Array)) {
      for (const [sk, sv] of Object.entries(inner as Record<string, unknown>)) if (sv !== undefined) out.push([`${k}.${sk}`, sv]);
    } else out.push([k, inner]);
  }
  return out;
}

/** A value as logfmt writes it: bare when it has no space, quote, `=` or control character; else a JSON string. */
function logfmtValue(v: unknown): string {
  const s = typeof v === "string" ? v : Array.isArray(v) ? v.join(",") : String(v);
  return s !== "" && !/[\s"=\\\u0000-\u001f\u007f]/.test(s) ? s : JSON.stringify(s);
}
