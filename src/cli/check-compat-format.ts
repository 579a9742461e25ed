/**
 * The output formats of `ringrpc check-compat --error-format`: `text` (one
 * finding per line, its fix on the next), `json` (one array), `github`
 * (GitHub Actions `::error` workflow commands, so findings show on the pull
 * request's lines) and `junit` (JUnit XML: one test suite per active rule,
 * one failing test case per finding, one passing case for a rule with
 * none). Turns findings into text; reads and prints nothing.
 */
import { formatIncompatibility, type CompatRuleInfo, type Incompatibility, type Location } from "../../idl/index.ts";

export const COMPAT_FORMATS = ["text", "json", "github", "junit"] as const;
export type CompatFormat = (typeof COMPAT_FORMATS)[number];

export interface FormatContext {
  /** The rules that ran, in table order (junit lists each). */
  readonly rules: readonly CompatRuleInfo[];
  /**
   * Where a finding is in the working tree: its new location, or for a
   * removal its old one without the `<ref>:` label a git revision adds.
   */
  readonly workspaceLocation: (f: Incompatibility) => Location | undefined;
}

/** Escapes a workflow command's message (`%`, CR, LF) or, with `property`, a property value (also `:` and `,`). */
export function escapeGithub(s: string, property = false): string {
  const out = s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
  return property ? out.replaceAll(":", "%3A").replaceAll(",", "%2C") : out;
}

function githubLine(f: Incompatibility, at: Location | undefined): string {
  const props: string[] = [];
  if (at !== undefined) props.push(`file=${escapeGithub(at.file, true)}`, `line=${at.line}`, `col=${at.col}`);
  props.push(`title=${escapeGithub(`${f.category}-breaking [${f.rule}]`, true)}`);
  const body = f.fix === undefined ? f.message : `${f.message}\nfix: ${f.fix}`;
  return `::error ${props.join(",")}::${escapeGithub(body)}`;
}

export function escapeXml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}

function junit(findings: readonly Incompatibility[], ctx: FormatContext): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tests = ctx.rules.reduce((n, r) => n + Math.max(1, findings.filter((f) => f.rule === r.id).length), 0);
  lines.push(`<testsuites name="ringrpc check-compat" tests="${tests}" failures="${findings.length}">`);
  for (const r of ctx.rules) {
    const mine = findings.filter((f) => f.rule === r.id);
    lines.push(`  <testsuite name="${escapeXml(r.id)}" tests="${Math.max(1, mine.length)}" failures="${mine.length}">`);
    if (mine.length === 0) lines.push(`    <testcase classname="${r.category}" name="${escapeXml(r.id)}"/>`);
    for (const f of mine) {
      const at = ctx.workspaceLocation(f);
      const file = at === undefined ? "" : ` file="${escapeXml(at.file)}" line="${at.line}"`;
      lines.push(`    <testcase classname="${r.category}" name="${escapeXml(`${r.id}: ${f.decl}`)}"${file}>`);
      lines.push(`      <failure type="${escapeXml(r.id)}" message="${escapeXml(f.message)}">${escapeXml(formatIncompatibility(f))}</failure>`);
      lines.push("    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}

/** The whole output for `findings` in `format`. */
export function formatFindings(format: CompatFormat, findings: readonly Incompatibility[], ctx: FormatContext): string {
  switch (format) {
    case "text": return findings.map((f) => `${formatIncompatibility(f)}\n`).join("");
    case "json": return `${JSON.stringify(findings)}\n`;
    case "github": return findings.map((f) => `${githubLine(f, ctx.workspaceLocation(f))}\n`).join("");
    case "junit": return junit(findings, ctx);
  }
}
