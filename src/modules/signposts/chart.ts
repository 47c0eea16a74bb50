/**
 * A link's match weight as a waterfall chart, drawn as inline SVG: the starting point, then each field's contribution
 * from where the last one ended, then the total. The page shows the same figures as a table, so the chart's own text
 * alternative is a short summary rather than every figure.
 */
import { escapeXml } from '#platform/views/xml';
import type { Explanation } from './linkage/explain.js';

export interface ChartOptions {
  title?: string;
  /** Prefix for the ids inside the chart; by default one derived from the two record ids. */
  id?: string;
}

const POSITIVE = '#00703c';
const NEGATIVE = '#d4351c';
const TOTAL = '#1d70b8';
const TEXT = '#0b0c0c';
const SECONDARY = '#505a5f';
const GRID = '#b1b4b6';

const WIDTH = 960;
const FONT_SIZE = 16;
const LINE = 20;
const LABEL_X = 8;
const LABEL_WIDTH = 380;
const VALUE_X = 468;
const PLOT_LEFT = 492;
const PLOT_RIGHT = WIDTH - 24;
const ROW_PADDING = 8;
const BAR_HEIGHT = 20;
const TOP = 8;
const AXIS_SPACE = 64;
/** Average advance of a character at 16px in the fonts the pages use, for wrapping labels without measuring. */
const CHAR_WIDTH = 8.6;
const STARTING_POINT = 'Starting point: how likely any two records are the same person';

interface Row {
  label: string;
  weight: number;
  from: number;
  to: number;
  colour: string;
  kind: 'prior' | 'field' | 'total';
}

export function matchWeightChart(explanation: Explanation, options: ChartOptions = {}): string {
  const id = chartId(options.id, explanation);
  const title = options.title ?? `Match weight for records ${explanation.leftId} and ${explanation.rightId}`;
  const total = drawable(explanation.totalWeight);
  const probability = formatProbability(explanation.probability);

  const rows: Row[] = [];
  let sum = 0;
  const step = (label: string, weight: number, kind: Row['kind']) => {
    const w = drawable(weight);
    rows.push({ label, weight, from: sum, to: sum + w, colour: colourFor(w), kind });
    sum += w;
  };
  step(STARTING_POINT, explanation.priorWeight, 'prior');
  for (const field of explanation.fields) step(field.description, field.weight, 'field');
  rows.push({ label: `Total (probability ${probability})`, weight: explanation.totalWeight, from: 0, to: total, colour: TOTAL, kind: 'total' });

  const ends = rows.flatMap((row) => [row.from, row.to]);
  const { min, max, ticks } = niceScale(Math.min(0, ...ends), Math.max(0, ...ends));
  const x = (value: number) => PLOT_LEFT + ((value - min) / (max - min)) * (PLOT_RIGHT - PLOT_LEFT);

  const parts: string[] = [];
  let y = TOP;
  const layouts = rows.map((row) => {
    const lines = wrap(row.label, Math.floor(LABEL_WIDTH / CHAR_WIDTH));
    const height = Math.max(lines.length * LINE, BAR_HEIGHT) + 2 * ROW_PADDING;
    const layout = { row, lines, top: y, height };
    y += height;
    return layout;
  });
  const plotBottom = y;
  const height = plotBottom + AXIS_SPACE;

  // Grid and ticks first, so bars draw over them.
  for (const tick of ticks) {
    const tx = round(x(tick));
    parts.push(`<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${plotBottom}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(`<line x1="${tx}" y1="${plotBottom}" x2="${tx}" y2="${plotBottom + 6}" stroke="${TEXT}" stroke-width="1"/>`);
    parts.push(`<text x="${tx}" y="${plotBottom + 6 + LINE}" text-anchor="middle">${escapeXml(formatNumber(tick, tickDecimals(ticks)))}</text>`);
  }
  parts.push(`<line x1="${PLOT_LEFT}" y1="${plotBottom}" x2="${PLOT_RIGHT}" y2="${plotBottom}" stroke="${TEXT}" stroke-width="1"/>`);
  parts.push(`<text x="${round((PLOT_LEFT + PLOT_RIGHT) / 2)}" y="${height - 8}" text-anchor="middle">Match weight</text>`);

  layouts.forEach(({ row, lines, top, height: rowHeight }, index) => {
    const middle = top + rowHeight / 2;
    const firstBaseline = middle - ((lines.length - 1) * LINE) / 2 + FONT_SIZE * 0.35;
    const weight = escapeXml(formatWeight(row.weight));
    const bold = row.kind === 'total' ? ' font-weight="bold"' : '';
    const tspans = lines.map((line, i) => `<tspan x="${LABEL_X}" y="${round(firstBaseline + i * LINE)}">${escapeXml(line)}</tspan>`).join('');
    parts.push(`<text${bold}>${tspans}</text>`);
    parts.push(`<text x="${VALUE_X}" y="${round(middle + FONT_SIZE * 0.35)}" text-anchor="end"${bold}>${weight}</text>`);

    const left = x(Math.min(row.from, row.to));
    // A field that added nothing still gets a sliver, so every row shows where the running total stood.
    const width = Math.max(Math.abs(x(row.to) - x(row.from)), 2);
    const barTop = middle - BAR_HEIGHT / 2;
    const direction = row.to < row.from ? 'negative' : row.to > row.from ? 'positive' : 'none';
    parts.push(
      `<rect class="bar bar-${row.kind}" data-direction="${direction}" x="${round(row.to === row.from ? left - 1 : left)}" y="${round(barTop)}" width="${round(width)}" height="${BAR_HEIGHT}" fill="${row.colour}"/>`,
    );
    const next = layouts[index + 1];
    if (next && next.row.kind !== 'total') {
      // The waterfall's connector: this bar's end is where the next one starts.
      const cx = round(x(row.to));
      parts.push(
        `<line x1="${cx}" y1="${round(barTop + BAR_HEIGHT)}" x2="${cx}" y2="${round(next.top + next.height / 2 - BAR_HEIGHT / 2)}" stroke="${SECONDARY}" stroke-width="1" stroke-dasharray="3 3"/>`,
      );
    }
  });

  const zero = round(x(0));
  parts.push(`<line class="axis-zero" x1="${zero}" y1="${TOP}" x2="${zero}" y2="${plotBottom}" stroke="${TEXT}" stroke-width="2"/>`);

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" class="signposts-match-weight-chart" role="img" aria-hidden="false" aria-labelledby="${titleId} ${descId}"`,
    ` viewBox="0 0 ${WIDTH} ${round(height)}" width="100%" preserveAspectRatio="xMinYMin meet" font-family="&quot;GDS Transport&quot;, arial, sans-serif" font-size="${FONT_SIZE}" fill="${TEXT}">`,
    `<title id="${titleId}">${escapeXml(title)}</title>`,
    `<desc id="${descId}">${escapeXml(matchWeightSummary(explanation))}</desc>`,
    ...parts,
    '</svg>',
  ].join('');
}

/** The chart in words: the total, the probability and the fields that moved it most. */
export function matchWeightSummary(explanation: Explanation): string {
  const biggest = explanation.fields
    .filter((field) => field.weight !== 0)
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, 3)
    .map((field) => `${field.description} ${formatWeight(field.weight)}`);
  const start = `Starting point ${formatWeight(explanation.priorWeight)}.`;
  const contributions = biggest.length > 0 ? ` Biggest contributions: ${biggest.join('; ')}.` : ' No field changed the weight.';
  return `Total match weight ${formatNumber(explanation.totalWeight, 1)}, probability ${formatProbability(explanation.probability)}. ${start}${contributions}`;
}

function chartId(given: string | undefined, explanation: Explanation): string {
  const cleaned = given?.replace(/[^A-Za-z0-9_-]/g, '-');
  if (cleaned) return /^[A-Za-z]/.test(cleaned) ? cleaned : `chart-${cleaned}`;
  // FNV-1a: stable across renders, so the same pair of records always gets the same ids.
  let hash = 0x811c9dc5;
  for (const char of `${explanation.leftId}\u0000${explanation.rightId}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `match-weight-${hash.toString(16).padStart(8, '0')}`;
}

/** A weight of plus or minus infinity (a level never seen in matches or non-matches) is drawn at the edge of reason. */
function drawable(weight: number): number {
  if (Number.isNaN(weight)) return 0;
  return Math.max(-64, Math.min(64, weight));
}

function colourFor(weight: number): string {
  if (weight > 0) return POSITIVE;
  if (weight < 0) return NEGATIVE;
  return SECONDARY;
}

/** Axis bounds on round numbers, with about five ticks between. */
function niceScale(low: number, high: number): { min: number; max: number; ticks: number[] } {
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const rough = (high - low) / 5;
  const magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const min = Math.floor(low / step) * step;
  const max = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let tick = min; tick <= max + step / 2; tick += step) ticks.push(Math.abs(tick) < step / 1e6 ? 0 : tick);
  return { min, max, ticks };
}

function tickDecimals(ticks: number[]): number {
  const step = Math.abs((ticks[1] ?? 1) - (ticks[0] ?? 0));
  return step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
}

/** Splits a label into lines no longer than `width` characters, breaking at spaces where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** Negative numbers take a true minus sign, which screen readers say as "minus". */
function formatNumber(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'infinity' : '\u2212infinity';
  const fixed = Math.abs(value).toFixed(decimals);
  const isZero = Number(fixed) === 0;
  return value < 0 && !isZero ? `\u2212${fixed}` : fixed;
}

function formatWeight(value: number): string {
  const text = formatNumber(value, 1);
  return text.startsWith('\u2212') || Number(text) === 0 ? text : `+${text}`;
}

/** Never rounds a near-certain match up to 100% or an unlikely one down to 0%: the model is never certain. */
export function formatProbability(probability: number): string {
  const percent = probability * 100;
  if (percent >= 99.95) return 'over 99.9%';
  if (percent < 0.05) return 'under 0.1%';
  return `${percent.toFixed(1)}%`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
