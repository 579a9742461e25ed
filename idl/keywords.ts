/**
 * The words of the `.ridl` language, in one place: the contextual keywords
 * (docs/IDL.md, "Lexical structure"), the built-in scalar type names and the
 * option names. The parser and resolver read their sets from here, and the
 * editor grammar's test (test/editors/) checks that each one is highlighted,
 * so a new word added here without highlighting fails there. Owns the lists
 * only: which word is a keyword where is the parser's business.
 */

/** Words that start a top-level declaration; the parser recovers at them after a syntax error. */
export const DECLARATION_KEYWORDS = ["package", "import", "const", "enum", "struct", "error", "union", "service"] as const;

/** Words with a meaning inside a declaration (reservations, methods, types, literals). */
export const MEMBER_KEYWORDS = ["reserved", "to", "stream", "throws", "list", "map", "true", "false"] as const;

/** Every contextual keyword: each is a keyword only where the grammar expects it, so a field may be called `error`. */
export const KEYWORDS = [...DECLARATION_KEYWORDS, ...MEMBER_KEYWORDS] as const;

/** The built-in scalar types; no declaration may take one of these names. */
export const SCALAR_TYPES = ["bool", "i32", "i64", "u32", "u64", "f64", "string", "bytes", "timestamp"] as const;

/** Method options, in brackets after a method: `[idempotent, deadline = 500ms]`. */
export const METHOD_OPTIONS = ["idempotent", "deadline"] as const;

/** Error options, in brackets after an error's name: `[status = NOT_FOUND]`. */
export const ERROR_OPTIONS = ["status"] as const;

/**
 * Enum and union options, in brackets after the name: `enum Color [closed] { ... }`.
 * Without `closed` an enum or union is open: a reader keeps a number or
 * variant it does not know instead of rejecting the message (docs/ENCODING.md).
 */
export const ENUM_OPTIONS = ["closed"] as const;
export const UNION_OPTIONS = ["closed"] as const;

/** Units of a duration literal (`500ms`, `2s`), only in the `deadline` option. */
export const DURATION_UNITS = ["ms", "s"] as const;
