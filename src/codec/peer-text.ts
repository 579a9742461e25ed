/**
 * peerText(): the one way text that came from a peer (a method path, a
 * metadata key, a map key in a field path, a GOAWAY message) goes into an
 * error message, whichever side reads it: a person's terminal or a log, or
 * the peer itself in a STATUS or GOAWAY. Two guarantees:
 *
 * - bounded: at most `maxChars` characters of the text are kept (default
 *   128); a longer text ends in `…(N bytes)`, N being its whole UTF-8 size;
 * - printable: control characters (C0, DEL, C1) become `\xNN`, and the other
 *   characters a terminal does not print as themselves (line and paragraph
 *   separators, bidi and zero-width format characters, surrogates,
 *   private-use and unassigned code points) become `\u{N}`.
 *
 * `quote: true` puts the text in double quotes and escapes `"` and `\` as
 * `\x22` and `\x5c`, so a key's end is never in doubt. Without it a
 * backslash stays as it is: the result is for people, not for parsing back.
 * It runs on error paths only; nothing here is tuned for speed.
 */

/** How many characters of a peer's text an error message keeps by default. */
export const PEER_TEXT_MAX_CHARS = 128;

export interface PeerTextOptions {
  /** Wrap in double quotes, escaping `"` and `\` (for keys and names). Default false. */
  quote?: boolean;
  /** Characters kept before `…(N bytes)` (default PEER_TEXT_MAX_CHARS). */
  maxChars?: number;
}

/** Characters that are not printed as themselves (general categories Cc, Cf, Cs, Co, Cn, Zl, Zp). */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]$/u;

export function peerText(text: string, opts?: PeerTextOptions): string {
  const quote = opts?.quote === true;
  const max = opts?.maxChars ?? PEER_TEXT_MAX_CHARS;
  let out = quote ? '"' : "";
  let kept = 0;
  let cut = false;
  for (const ch of text) {
    if (kept === max) {
      cut = true;
      break;
    }
    kept++;
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f) out += quote && (c === 0x22 || c === 0x5c) ? escaped(c) : ch;
    else out += NOT_PRINTABLE.test(ch) ? escaped(c) : ch;
  }
  if (quote) out += '"';
  return cut ? `${out}…(${utf8Length(text)} bytes)` : out;
}

function escaped(c: number): string {
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, "0")}` : `\\u{${c.toString(16)}}`;
}

/** UTF-8 size of `text` (a lone surrogate counts as the 3 bytes of U+FFFD it is encoded as). */
function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}
