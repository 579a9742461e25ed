/**
 * Naming-style warnings: PascalCase types, snake_case fields and union
 * variants, UPPER_SNAKE_CASE enum values and consts, lowerCamelCase methods,
 * lower-case dotted packages. Each check returns a message with a suggested
 * spelling, or undefined when the name is fine. Warnings never block output.
 */

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const LOWER_CAMEL = /^[a-z][A-Za-z0-9]*$/;
const PACKAGE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Splits "userID", "user_id", "UserId", "USER_ID" into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}
const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

export function pascalCaseWarning(kind: string, name: string): string | undefined {
  if (PASCAL.test(name)) return undefined;
  const s = words(name).map(cap).join("");
  return `${kind} name "${name}" should be PascalCase${s && s !== name ? ` (e.g. "${s}")` : ""}`;
}

export function snakeCaseWarning(kind: string, name: string): string | undefined {
  if (SNAKE.test(name)) return undefined;
  const s = words(name).join("_");
  return `${kind} name "${name}" should be snake_case${s && s !== name ? ` (e.g. "${s}")` : ""}`;
}

export function upperSnakeWarning(kind: string, name: string): string | undefined {
  if (UPPER_SNAKE.test(name)) return undefined;
  const s = words(name).join("_").toUpperCase();
  return `${kind} name "${name}" should be UPPER_SNAKE_CASE${s && s !== name ? ` (e.g. "${s}")` : ""}`;
}

export function lowerCamelWarning(kind: string, name: string): string | undefined {
  if (LOWER_CAMEL.test(name)) return undefined;
  const w = words(name);
  const s = (w[0] ?? "") + w.slice(1).map(cap).join("");
  return `${kind} name "${name}" should be lowerCamelCase${s && s !== name ? ` (e.g. "${s}")` : ""}`;
}

export function packageWarning(name: string): string | undefined {
  if (PACKAGE.test(name)) return undefined;
  return `package name "${name}" should be lower-case words separated by dots (e.g. "${name.toLowerCase()}")`;
}
