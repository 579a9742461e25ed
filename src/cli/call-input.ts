/**
 * The request messages of `ringrpc call`, as JSON text: the positional
 * argument, `-d TEXT`, `-d @FILE`, `-d @-` (stdin), or else stdin: for a
 * client stream always (type lines, then Ctrl-D), for one message only when
 * stdin is not a terminal. Unary and server-streaming calls take one JSON
 * value (empty input means `{}`); client-streaming and bidi calls take one
 * JSON value per line (NDJSON), read to the end before the call starts.
 * Bad JSON is a JsonValueError naming the line.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "./args.ts";
import { JsonValueError } from "./dynamic/json-mapping.ts";

export interface InputSource {
  /** The positional JSON argument, if any. */
  positional: string | undefined;
  /** The `-d` value, if any. */
  data: string | undefined;
  /** Reads standard input to its end. */
  readStdin: () => Promise<string>;
  /** Whether standard input is a terminal (then it is not read unless asked for). */
  stdinIsTty: boolean;
}

/** The request text, or "" when there is none; `streaming` for client-streaming and bidi methods. */
export async function requestText(src: InputSource, streaming: boolean): Promise<string> {
  if (src.positional !== undefined && src.data !== undefined) throw new UsageError("give the request either as an argument or with -d, not both");
  const d = src.data ?? src.positional;
  if (d === "@-") return src.readStdin();
  if (d !== undefined && d.startsWith("@")) {
    try {
      return readFileSync(d.slice(1), "utf8");
    } catch (e) {
      throw new UsageError(`-d ${d}: cannot read ${d.slice(1)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (d !== undefined) return d;
  return src.stdinIsTty && !streaming ? "" : src.readStdin();
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonValueError("", `${where} is not JSON (${(e as Error).message})`);
  }
}

/** One JSON value; empty text is `{}`. */
export function oneMessage(text: string): unknown {
  return text.trim() === "" ? {} : parse(text, "the request");
}

/** One JSON value per non-blank line. */
export function messageLines(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) if (lines[i]!.trim() !== "") out.push(parse(lines[i]!, `request line ${i + 1}`));
  return out;
}
