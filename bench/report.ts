/** Figures across rounds: median, min, max, the Hikyaku/anchor ratio, and the change against an earlier run. */

export interface FigureSpec {
  readonly scenario: string;
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
}

export interface FigureResult extends FigureSpec {
  /** One value per round, by target name. */
  readonly values: Record<string, number[]>;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function cell(xs: readonly number[] | undefined): string {
  if (!xs || xs.length === 0) return '–';
  return xs.length === 1 ? fmt(xs[0]!) : `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
}

/** Hikyaku's median over the anchor's, oriented so that > 1 always means Hikyaku is better. */
export function advantage(f: FigureResult, ours: string, theirs: string): number | undefined {
  const a = f.values[ours];
  const b = f.values[theirs];
  if (!a?.length || !b?.length) return undefined;
  const r = median(a) / median(b);
  return f.better === 'higher' ? r : 1 / r;
}

/** The figures side by side; "advantage" is the first target's over the anchor (the one that is not Hikyaku), when there is one. */
export function table(figures: readonly FigureResult[], targets: readonly string[]): string {
  const anchor = targets.find((t) => !t.startsWith('hikyaku'));
  const head = ['scenario', 'figure', ...targets.map((t) => `${t} median (min–max)`), ...(anchor ? [`advantage × over ${anchor}`] : [])];
  const rows = figures.map((f) => {
    const adv = anchor ? advantage(f, targets[0]!, anchor) : undefined;
    return [f.scenario, `${f.label} [${f.unit}]`, ...targets.map((t) => cell(f.values[t])), ...(anchor ? [adv === undefined ? '–' : adv.toFixed(2)] : [])];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/** Lines comparing `ours` medians with an earlier result; a figure more than 10% worse is flagged. */
export function compare(now: readonly FigureResult[], before: readonly FigureResult[], ours: string): { lines: string[]; worse: number } {
  const lines: string[] = [];
  let worse = 0;
  for (const f of now) {
    const old = before.find((b) => b.scenario === f.scenario && b.key === f.key)?.values[ours];
    const cur = f.values[ours];
    if (!old?.length || !cur?.length) continue;
    const change = median(cur) / median(old) - 1;
    const isWorse = f.better === 'higher' ? change < -0.1 : change > 0.1;
    if (isWorse) worse++;
    lines.push(`${isWorse ? 'WORSE ' : '      '}${f.scenario} ${f.label}: ${fmt(median(old))} → ${fmt(median(cur))} ${f.unit} (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%)`);
  }
  return { lines, worse };
}
