/**
 * The text of `ringrpc check-compat --help`: usage, options, categories and
 * every rule with its category and summary, made from the rule set
 * (idl/compat-rules.ts) so it cannot drift from what the checker reports.
 */
import { COMPAT_CATEGORIES, COMPAT_RULES } from "../../idl/index.ts";
import { CONFIG_FIELD, DEFAULT_CATEGORY } from "./check-compat-config.ts";
import { COMPAT_FORMATS } from "./check-compat-format.ts";

export const USAGE = "usage: ringrpc check-compat <files|dirs...> --against <git-ref|file|dir> [--category wire|source] [--except RULE]... [--config FILE] [--error-format text|json|github|junit]";

const CATEGORY_TEXT: Record<(typeof COMPAT_CATEGORIES)[number], string> = {
  wire: "what breaks on the wire: peers built from the two versions misread or reject each other",
  source: "wire, plus what breaks code written against the old generated TypeScript (renames, ...)",
};

export function checkCompatHelp(): string {
  const width = Math.max(...COMPAT_RULES.map((r) => r.id.length));
  const rules = COMPAT_CATEGORIES.flatMap((c) => [
    `  ${c}:`,
    ...COMPAT_RULES.filter((r) => r.category === c).map((r) => `    ${r.id.padEnd(width)}  ${r.summary}`),
  ]);
  return `${USAGE}

Compares .ridl files with their old version and reports every breaking change,
with its place in both versions and how to fix it (docs/IDL.md, "Compatibility rules").

options:
  --against REF|FILE|DIR   the old version: a git revision, the old file, or a directory of old files
  --category CATEGORY      the rules to check: ${COMPAT_CATEGORIES.join(" or ")} (default ${DEFAULT_CATEGORY}; overrides the config's "use")
  --except RULE            leave a rule out (repeatable; adds to the config's "except")
  --config FILE            a JSON configuration, or a package.json with a "${CONFIG_FIELD}" field
                           (default: the "${CONFIG_FIELD}" field of the nearest package.json)
  --error-format FORMAT    ${COMPAT_FORMATS.join(", ")} (default text; --format is the same option)
  --help                   this text

configuration ({ "use": [...], "except": [...], "ignore": [...] }):
  use      categories and rule ids to check (default ["${DEFAULT_CATEGORY}"])
  except   rule ids to leave out
  ignore   accepted findings: { "rule": "field-default-changed", "decl": "kv.v1.GetRequest" };
           without "rule", every rule; "decl" also matches what is inside it
           ("kv.v1" matches kv.v1.Entry, "kv.v1.KeyValue" matches kv.v1.KeyValue/get)

exit status: 0 no breaking change, 1 breaking changes found, 2 usage or
configuration error, or a version that does not compile.

categories:
${COMPAT_CATEGORIES.map((c) => `  ${c.padEnd(8)}${CATEGORY_TEXT[c]}`).join("\n")}

rules:
${rules.join("\n")}
`;
}
