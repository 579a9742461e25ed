/**
 * A Logger (src/runtime/log/logger.ts) that keeps every event in memory:
 * tests read what a server or launcher logged, and the RPC harness uses one
 * so the failures tests cause on purpose do not flood the test output.
 */
import type { LogFields, Logger, LogLevel } from "../../src/runtime/log/logger.ts";

export interface LoggedEvent {
  level: LogLevel;
  fields: LogFields;
  msg: string;
}

export interface RecordingLogger extends Logger {
  readonly events: LoggedEvent[];
  /** The events whose `event` field is `name`. */
  named(name: string): LoggedEvent[];
}

export function recordingLogger(): RecordingLogger {
  const events: LoggedEvent[] = [];
  const at = (level: LogLevel) => (fields: LogFields, msg: string) => {
    events.push({ level, fields, msg });
  };
  return { events, info: at("info"), warn: at("warn"), error: at("error"), named: (name) => events.filter((e) => e.fields.event === name) };
}
