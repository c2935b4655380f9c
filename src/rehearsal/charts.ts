/**
 * Line charts over a rehearsal's clock as SVG text (for the HTML report, and rendered to
 * PNG beside it): series with gaps where nothing was measured, the phases as numbered
 * bands, incidents as a red strip, and an optional limit line (such as 2 s).
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  /** [seconds, value]; null where nothing was measured. */
  readonly points: readonly (readonly [number, number | null])[];
  readonly dashed?: boolean;
}

export interface Band {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface Chart {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
  readonly phases: readonly Band[];
  readonly incidents: readonly Band[];
  readonly limit?: { readonly y: number; readonly label: string };
}

const W = 960;
const H = 280;
const M = { left: 64, right: 16, top: 34, bottom: 40 };
const FONT = 'font-family="DejaVu Sans, Verdana, sans-serif"';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step giving about `n` ticks up to `max`. */
function step(max: number, n: number): number {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * p).find((s) => s >= raw) ?? 10 * p;
}

const fmt = (v: number) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : v >= 1000 ? `${(v / 1000).toFixed(1).replace(/\.0$/, '')}k` : String(Math.round(v * 100) / 100));

export function chartSvg(c: Chart): string {
  const tMax = Math.max(1, ...c.series.flatMap((s) => s.points.map(([t]) => t)), ...c.phases.map((b) => b.to));
  const values = c.series.flatMap((s) => s.points.map(([, v]) => v ?? 0));
  const yTop = Math.max(1, ...values, (c.limit?.y ?? 0) * 1.15);
  const yStep = step(yTop, 5);
  const yMax = Math.ceil(yTop / yStep) * yStep;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (t / tMax) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`, `<rect width="${W}" height="${H}" fill="#fff"/>`];
  out.push(`<text x="${M.left}" y="20" font-size="15" font-weight="bold" fill="#222">${esc(c.title)}</text>`);
  c.phases.forEach((b, i) => {
    out.push(`<rect x="${x(b.from).toFixed(1)}" y="${M.top}" width="${(x(b.to) - x(b.from)).toFixed(1)}" height="${ph}" fill="${i % 2 ? '#f1f3f6' : '#fafbfc'}"/>`);
    out.push(`<text x="${(x(b.from) + 4).toFixed(1)}" y="${M.top + 13}" font-size="11" fill="#667">${esc(b.label)}</text>`);
  });
  for (const b of c.incidents) out.push(`<rect x="${x(b.from).toFixed(1)}" y="${M.top + ph - 6}" width="${Math.max(2, x(b.to) - x(b.from)).toFixed(1)}" height="6" fill="#d33" opacity="0.75"><title>${esc(b.label)}</title></rect>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#dde" stroke-width="1"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#445">${fmt(v)}</text>`);
  }
  const tStep = step(tMax, 10);
  for (let t = 0; t <= tMax; t += tStep) out.push(`<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 15}" font-size="11" text-anchor="middle" fill="#445">${t}</text>`);
  out.push(`<text x="${W - M.right}" y="${H - 6}" font-size="11" text-anchor="end" fill="#445">seconds since the start</text>`);
  out.push(`<text x="14" y="${M.top + ph / 2}" font-size="11" fill="#445" transform="rotate(-90 14 ${M.top + ph / 2})" text-anchor="middle">${esc(c.unit)}</text>`);
  if (c.limit) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(c.limit.y).toFixed(1)}" y2="${y(c.limit.y).toFixed(1)}" stroke="#d33" stroke-dasharray="6 4" stroke-width="1.5"/>`);
    out.push(`<text x="${W - M.right - 4}" y="${(y(c.limit.y) - 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#d33">${esc(c.limit.label)}</text>`);
  }
  for (const s of c.series) {
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#889"/>`);
  let lx = W - M.right;
  for (const s of [...c.series].reverse()) {
    const w = 26 + s.name.length * 6.6;
    lx -= w;
    out.push(`<line x1="${lx.toFixed(1)}" x2="${(lx + 18).toFixed(1)}" y1="15" y2="15" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/><text x="${(lx + 22).toFixed(1)}" y="19" font-size="11" fill="#333">${esc(s.name)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
