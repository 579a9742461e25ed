/**
 * skipTitle: the one way a test title says why it is skipped. The title is
 * unchanged when the test runs and gets " (skipped: reason)" when it does
 * not, so a skip is never silent (scripts/check-tests.ts accepts a skip whose
 * title is built here).
 */
export function skipTitle(label: string, reason: string | null | false | undefined): string {
  return typeof reason === "string" && reason !== "" ? `${label} (skipped: ${reason})` : label;
}
