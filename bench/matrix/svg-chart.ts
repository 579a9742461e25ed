/**
 * The bench charts as hand-written SVG (no dependencies): two panels of
 * grouped bars, one group per depth (or per client and depth) and one bar per
 * contender. The matrix chart shows req/s (with min-max whiskers) and p99;
 * the 1-connection chart p50 and req/s. A `*` marks a bar whose runs
 * saturated the load generator; a red STALLED marks a stalled row
 * (stall-flag.ts). Pure: rows in, SVG text out.
 */
import { formatRate } from "../echo/summary-table.ts";
import type { RowSummary } from "./matrix-table.ts";

export interface ChartGroup {
  readonly label: string;
  readonly rows: readonly RowSummary[];
  /** Contenders flagged STALLED in this group. */
  readonly stalled?: ReadonlySet<string>;
}

export interface Panel {
  readonly title: string;
  readonly value: (r: RowSummary) => number;
  readonly range: ((r: RowSummary) => [number, number]) | null;
  readonly format: (x: number) => string;
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const WIDTH = 1040;
const HEIGHT = 480;
const PLOT_TOP = 90;
const PLOT_HEIGHT = 300;
const PANEL_WIDTH = 440;
const PANEL_LEFT = [70, 590];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) at or above x, so the axis ends on it. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

function panelSvg(p: Panel, left: number, panelWidth: number, groups: readonly ChartGroup[], names: readonly string[]): string[] {
  const out: string[] = [];
  const ok = (r: RowSummary): boolean => r.okRuns > 0 && Number.isFinite(p.value(r));
  let max = 0;
  for (const g of groups) for (const r of g.rows) if (ok(r)) max = Math.max(max, p.range ? p.range(r)[1] : p.value(r), p.value(r));
  const top = niceCeil(max);
  const y = (v: number): number => PLOT_TOP + PLOT_HEIGHT - (v / top) * PLOT_HEIGHT;
  out.push(text(left + panelWidth / 2, PLOT_TOP - 22, p.title, `text-anchor="middle" font-size="15" font-weight="bold"`));
  for (let i = 0; i <= 5; i++) {
    const v = (top * i) / 5;
    out.push(`<line x1="${left}" x2="${left + panelWidth}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    out.push(text(left - 6, y(v) + 4, p.format(v), `text-anchor="end" font-size="11"`));
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${PLOT_TOP}" y2="${PLOT_TOP + PLOT_HEIGHT}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + panelWidth}" y1="${PLOT_TOP + PLOT_HEIGHT}" y2="${PLOT_TOP + PLOT_HEIGHT}" stroke="#333"/>`);
  const groupW = panelWidth / Math.max(groups.length, 1);
  const barW = (groupW * 0.8) / Math.max(names.length, 1);
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + groupW * 0.1;
    out.push(text(left + gi * groupW + groupW / 2, PLOT_TOP + PLOT_HEIGHT + 18, g.label, `text-anchor="middle" font-size="13"`));
    names.forEach((name, ci) => {
      const r = g.rows.find((row) => row.contender === name);
      const x = gx + ci * barW;
      const color = COLORS[ci % COLORS.length] as string;
      if (r === undefined || !ok(r)) {
        out.push(text(x + barW / 2, PLOT_TOP + PLOT_HEIGHT - 4, "n/a", `text-anchor="middle" font-size="10" fill="#999"`));
        return;
      }
      const v = p.value(r);
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(barW - 2, 1).toFixed(1)}" height="${(PLOT_TOP + PLOT_HEIGHT - y(v)).toFixed(1)}" fill="${color}"><title>${esc(`${name} ${g.label}: ${p.format(v)}`)}</title></rect>`);
      if (p.range !== null) {
        const [lo, hi] = p.range(r);
        const cx = (x + barW / 2).toFixed(1);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(lo).toFixed(1)}" y2="${y(hi).toFixed(1)}" stroke="#000" stroke-width="1.2"/>`);
      }
      const mark = r.saturatedRuns > 0 ? "*" : "";
      const labelY = y(p.range ? Math.max(v, p.range(r)[1]) : v) - 4;
      out.push(text(x + barW / 2, labelY, `${p.format(v)}${mark}`, `text-anchor="middle" font-size="9"`));
      if (g.stalled?.has(name) === true) out.push(text(x + barW / 2, Math.max(labelY - 11, PLOT_TOP - 6), "STALLED", `text-anchor="middle" font-size="10" font-weight="bold" fill="#d62728"`));
    });
  });
  return out;
}

function micros(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

export const RPS_PANEL: Panel = { title: "throughput, req/s (median; whisker = min-max)", value: (r) => r.rpsMedian, range: (r) => [r.rpsMin, r.rpsMax], format: formatRate };
export const P99_PANEL: Panel = { title: "p99 latency, µs (median)", value: (r) => r.p99Median, range: null, format: micros };
export const P50_PANEL: Panel = { title: "p50 latency, µs (median)", value: (r) => r.p50Median, range: null, format: micros };

const SATURATED_NOTE = "* the load generator's core was saturated (>= 95%) in some runs: that bar may show the generator's limit, not the server's";
const STALLED_NOTE = "STALLED: p50 at depth 1 more than 10x the best in the same group";

/** The matrix chart: req/s and p99 per contender, one group per depth. */
export function matrixSvg(title: string, subtitle: string, groups: readonly ChartGroup[], names: readonly string[]): string {
  return barChartSvg(title, subtitle, groups, names, [RPS_PANEL, P99_PANEL], `${SATURATED_NOTE}; ${STALLED_NOTE}`);
}

/** Two panels of grouped bars; the panels widen with the number of bars. */
export function barChartSvg(title: string, subtitle: string, groups: readonly ChartGroup[], names: readonly string[], panels: readonly [Panel, Panel], footnote: string): string {
  const panelWidth = Math.max(PANEL_WIDTH, groups.length * Math.max(names.length * 16, 90));
  const width = WIDTH - 2 * PANEL_WIDTH + 2 * panelWidth;
  const lefts = [PANEL_LEFT[0] as number, (PANEL_LEFT[1] as number) - PANEL_WIDTH + panelWidth];
  const body: string[] = [
    `<rect width="${width}" height="${HEIGHT}" fill="#fff"/>`,
    text(width / 2, 22, title, `text-anchor="middle" font-size="17" font-weight="bold"`),
    text(width / 2, 40, subtitle, `text-anchor="middle" font-size="11" fill="#555"`),
  ];
  panels.forEach((p, i) => body.push(...panelSvg(p, lefts[i] as number, panelWidth, groups, names)));
  const legendY = PLOT_TOP + PLOT_HEIGHT + 50;
  const step = width / Math.max(names.length + 1, 2);
  names.forEach((name, i) => {
    const x = step * (i + 0.5);
    body.push(`<rect x="${x.toFixed(1)}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    body.push(text(x + 16, legendY, name, `font-size="12"`));
  });
  body.push(text(width / 2, legendY + 24, footnote, `text-anchor="middle" font-size="11" fill="#555"`));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="sans-serif">`,
    ...body.map((l) => `  ${l}`),
    "</svg>",
    "",
  ].join("\n");
}
