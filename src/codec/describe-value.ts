/**
 * describeValue: a short, human text for any JS value, the "got ..." half of
 * an encoding or validation message (`expected u32, got -5`). It shows the
 * value when it is small (numbers, bigints with their `n`, quoted strings
 * cut at 40 characters) and its kind otherwise (`an array (length 3)`,
 * `a Uint8Array (16 bytes)`, `a Map (size 2)`, `a Promise`), so the text
 * stays one bounded line whatever the value. Never calls the value's
 * toString or getters.
 */

const MAX_STRING_CHARS = 40;

export function describeValue(v: unknown): string {
  switch (typeof v) {
    case "undefined": return "undefined";
    case "boolean": return v ? "true" : "false";
    case "number": return Object.is(v, -0) ? "-0" : String(v);
    case "bigint": return `${v}n`;
    case "string": return v.length > MAX_STRING_CHARS ? `${JSON.stringify(v.slice(0, MAX_STRING_CHARS))}... (${v.length} characters)` : JSON.stringify(v);
    case "symbol": return "a symbol";
    case "function": return "a function";
    default: return v === null ? "null" : describeObject(v as object);
  }
}

function describeObject(o: object): string {
  if (Array.isArray(o)) return `an array (length ${o.length})`;
  if (o instanceof Uint8Array) return `${withArticle(constructorName(o) || "Uint8Array")} (${o.length} bytes)`;
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? "an invalid Date" : `a Date (${o.toISOString()})`;
  if (o instanceof Map) return `a Map (size ${o.size})`;
  if (o instanceof Set) return `a Set (size ${o.size})`;
  if (o instanceof Promise) return "a Promise (missing await?)";
  const name = constructorName(o);
  return name === "" || name === "Object" ? "an object" : withArticle(name);
}

/** The name of the class an object was made by, read without calling getters ("" for none). */
function constructorName(o: object): string {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === null || typeof proto !== "object") return "";
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value as unknown;
  return typeof ctor === "function" ? ctor.name : "";
}

function withArticle(name: string): string {
  return `${/^[AEIO]/.test(name) ? "an" : "a"} ${name}`; // "a Uint8Array", "an Int32Array"
}
