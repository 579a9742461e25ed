/**
 * The logger ringrpc writes its events to: the launcher's (start, worker
 * and process deaths and restarts, stop) and each server's (handler
 * failures, limits hit, GOAWAYs). `Logger` is the pino-compatible shape:
 * any object with info/warn/error taking (fields, message) plugs in, so a
 * user's pino, or a wrapper around their own logger, receives every event
 * as one object. Without one, createLogger writes one line per event to
 * stderr in the text (logfmt) or json format (log-line.ts). Owns the
 * choice of logger and the field-binding wrapper; nothing here is per call.
 */
import { jsonLine, type LogFields, type LogLevel, textLine } from "./log-line.ts";

export type { LogFields, LogLevel } from "./log-line.ts";

/** pino-compatible: `logger.error({ event: "handler_failed", method, err }, "handler failed")`. */
export interface Logger {
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
}

export type LogFormat = "text" | "json";

export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** How a caller picks its logger: its own, a format for ringrpc's, or (older API) a sink of plain message lines. */
export interface LogChoice {
  logger?: Logger;
  logFormat?: LogFormat;
  /** A sink for the message of each event alone, without fields (kept for launch()'s `log` option). */
  log?: (line: string) => void;
}

function stderrWrite(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** ringrpc's own logger: one line per event, in `format`, to `write` (default stderr). */
export function createLogger(format: LogFormat = "text", write: (line: string) => void = stderrWrite): Logger {
  if (!LOG_FORMATS.includes(format)) throw new RangeError(`log format must be "text" or "json" (got ${JSON.stringify(format)})`);
  const line = format === "json" ? jsonLine : textLine;
  const at = (level: LogLevel) => (fields: LogFields, msg: string) => write(line(level, fields, msg));
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that hands `log` each event's message only (the launcher's older `log` option). */
export function messageLogger(log: (line: string) => void): Logger {
  const at = (_fields: LogFields, msg: string) => log(msg);
  return { info: at, warn: at, error: at };
}

/** The logger a choice names: its own logger, else its `log` sink, else ringrpc's in its format. */
export function resolveLogger(choice: LogChoice): Logger {
  if (choice.logger !== undefined) return choice.logger;
  if (choice.log !== undefined) return messageLogger(choice.log);
  return createLogger(choice.logFormat ?? "text");
}

/**
 * `logger` with `fields` added to every event (before the event's own) and
 * `prefix` put before every message: what pino's child() does, for any
 * Logger.
 */
export function withFields(logger: Logger, fields: LogFields, prefix = ""): Logger {
  const at = (level: LogLevel) => (own: LogFields, msg: string) => logger[level]({ ...fields, ...own }, prefix + msg);
  return { info: at("info"), warn: at("warn"), error: at("error") };
}
