/**
 * The rehearsal's report: `report.json` (the whole record and the verdicts), `report.html`
 * (the verdicts, the phases, the totals and the plots, readable without JavaScript or a
 * network) and each plot as a PNG beside it (rendered from the same SVG with resvg).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { chartSvg, type Band, type Chart } from './charts.js';
import type { RehearsalRecord } from './rehearse.js';
import type { Sample, Slice } from './recorder.js';
import { ANSWER_LIMIT_MS, drainRates, undelivered, type Verdict } from './verdict.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((a, b) => a + b, 0);

/** Each plot of the report: a file name and its chart. */
export function charts(r: RehearsalRecord): { file: string; chart: Chart }[] {
  const end = r.samples.at(-1)?.t ?? 0;
  const phases: Band[] = r.scenario.phases.map((p, i) => ({ from: r.phaseStarts[i] ?? 0, to: r.phaseStarts[i + 1] ?? r.drainStart, label: String(i + 1) }));
  phases.push({ from: r.drainStart, to: end, label: 'drain' });
  const incidents = r.incidents.map((i) => ({ from: i.opened, to: i.closed ?? end, label: (i.title || `notice ${i.id}`) }));
  const base = { phases, incidents };
  const at = (f: (s: Sample, prev: Sample | undefined) => number | null) => r.samples.map((s, i) => [s.t, f(s, r.samples[i - 1])] as const);
  const lat = (k: 'pop3' | 'portal', q: keyof Pick<Slice, 'p50' | 'p99' | 'max'>) => at((s) => (sum(s[k].byCode) + s[k].failed ? s[k][q] : null));
  const perSecond = (s: Sample, prev: Sample | undefined, v: (x: Sample) => number) => (prev ? (v(s) - v(prev)) / Math.max(0.001, s.t - prev.t) : null);
  const limit = { y: ANSWER_LIMIT_MS, label: `${ANSWER_LIMIT_MS / 1000} s: the promise` };
  const backlog = undelivered(r);
  const processes = r.samples.reduce<string[]>((acc, s, i) => (i === 0 || s.deliveryProcesses !== r.samples[i - 1]!.deliveryProcesses ? [...acc, `${s.deliveryProcesses} from ${Math.round(s.t)} s`] : acc), []);
  return [
    {
      file: 'smtp.png',
      chart: {
        ...base,
        title: 'Inbound SMTP: messages answered per second',
        unit: 'per second',
        series: [
          { name: 'planned rate', color: '#999', dashed: true, points: at((s) => (s.phase < 0 ? 0 : r.scenario.rate * r.scenario.phases[s.phase]!.inbound)) },
          { name: '250 accepted', color: '#1a7f37', points: at((s) => s.smtp.byCode['250'] ?? 0) },
          { name: 'any other reply or none', color: '#d33', points: at((s) => sum(s.smtp.byCode) - (s.smtp.byCode['250'] ?? 0) + s.smtp.failed) },
        ],
      },
    },
    { file: 'pop3-time.png', chart: { ...base, limit, title: 'POP3: answer time of every command (login included)', unit: 'ms', series: [{ name: 'p50', color: '#1a7f37', points: lat('pop3', 'p50') }, { name: 'p99', color: '#bf8700', points: lat('pop3', 'p99') }, { name: 'max', color: '#8250df', points: lat('pop3', 'max') }] } },
    {
      file: 'pop3-answers.png',
      chart: {
        ...base,
        title: 'POP3: answers per second by kind',
        unit: 'per second',
        series: [
          { name: '+OK', color: '#1a7f37', points: at((s) => s.pop3.byCode['+OK'] ?? 0) },
          { name: '-ERR [SYS/TEMP]', color: '#bf8700', points: at((s) => s.pop3.byCode['-ERR [SYS/TEMP]'] ?? 0) },
          { name: 'other or none', color: '#d33', points: at((s) => sum(s.pop3.byCode) - (s.pop3.byCode['+OK'] ?? 0) - (s.pop3.byCode['-ERR [SYS/TEMP]'] ?? 0) + s.pop3.failed) },
        ],
      },
    },
    { file: 'portal-time.png', chart: { ...base, limit, title: 'Member site: answer time of login, session and logout', unit: 'ms', series: [{ name: 'p50', color: '#1a7f37', points: lat('portal', 'p50') }, { name: 'p99', color: '#bf8700', points: lat('portal', 'p99') }, { name: 'max', color: '#8250df', points: lat('portal', 'max') }] } },
    { file: 'backlog.png', chart: { ...base, title: 'Backlog: mail waiting for its mailbox', unit: 'messages', series: [{ name: 'accepted, not yet delivered', color: '#bf8700', points: r.samples.map((s, i) => [s.t, backlog[i]!] as const) }, { name: 'status page', color: '#0969da', points: at((s) => s.status.waiting) }, { name: '/metrics', color: '#999', dashed: true, points: at((s) => s.backlog) }] } },
    { file: 'oldest.png', chart: { ...base, title: 'Oldest waiting mail', unit: 'seconds', series: [{ name: 'status page', color: '#0969da', points: at((s) => s.status.oldestSeconds) }, { name: '/metrics', color: '#999', dashed: true, points: at((s) => s.oldestSeconds) }] } },
    { file: 'drain.png', chart: { ...base, title: `Deliveries into mailboxes per second (delivery processes: ${processes.join(', ')})`, unit: 'per second', series: [{ name: 'delivered', color: '#0969da', points: at((s, p) => perSecond(s, p, (x) => x.delivered)) }] } },
    { file: 'storage.png', chart: { ...base, title: 'The mailbox store at the fault proxy', unit: 'ms / count', series: [{ name: 'latency added each way (ms)', color: '#8250df', points: at((s) => s.storageLatencyMs) }, { name: 'connections dropped', color: '#d33', points: at((s, p) => (p ? s.dropped - p.dropped : 0)) }] } },
  ];
}

function html(r: RehearsalRecord, v: readonly Verdict[], svgs: string[]): string {
  const held = v.every((x) => x.held);
  const rows = v.map((x) => `<tr class="${x.held ? 'held' : 'broken'}"><td>${x.held ? '✔ held' : '✘ not held'}</td><td>${esc(x.promise)}</td><td>${esc(x.figure)}</td></tr>`).join('\n');
  const phases = r.scenario.phases
    .map((p, i) => `<tr><td>${i + 1}</td><td>${esc(p.name)}</td><td>${Math.round(r.phaseStarts[i] ?? 0)} s</td><td>${p.seconds} s</td><td>${p.inbound}× (${Math.round(r.scenario.rate * p.inbound)}/s)</td><td>${typeof p.storage.latencyMs === 'number' ? p.storage.latencyMs : p.storage.latencyMs.join(' → ')} ms${p.storage.dropEverySeconds ? `, drops every ${p.storage.dropEverySeconds} s` : ''}${p.storage.bandwidthBytesPerSecond ? `, at most ${Math.round(p.storage.bandwidthBytesPerSecond / 1000)} kB/s per connection` : ''}${p.storage.refuse ? ', refusing' : ''}</td><td>${p.deliveryProcesses}</td></tr>`)
    .join('\n');
  const t = r.totals;
  const codes = (o: Record<string, number>) => Object.entries(o).map(([c, n]) => `${esc(c)} × ${n}`).join(', ') || '–';
  const rates = [...drainRates(r)].map(([n, g]) => `${n}: ${Math.round(g.rate)} msg/s`).join(', ') || '–';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rehearsal ${esc(r.scenario.name)}: ${held ? 'every promise held' : 'promises broken'}</title>
<style>
body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:2rem auto;max-width:1000px;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1rem 0;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
tr.held td:first-child{color:#1a7f37;font-weight:bold;white-space:nowrap}tr.broken td:first-child{color:#cf222e;font-weight:bold;white-space:nowrap}
.verdict{font-size:1.25rem;font-weight:bold;color:${held ? '#1a7f37' : '#cf222e'}}figure{margin:1.5rem 0}svg{max-width:100%;height:auto}
</style></head><body>
<h1>Rehearsal “${esc(r.scenario.name)}”</h1>
<p>${esc(r.scenario.description)}</p>
<p class="verdict">${held ? 'Every promise held.' : `${v.filter((x) => !x.held).length} of ${v.length} promises not held.`}</p>
<p>Started ${esc(r.startedAt)}; ${Math.round(r.samples.at(-1)?.t ?? 0)} s in all; ${r.scenario.accounts} accounts, ${r.scenario.readers.accounts} polling over POP3 every ${r.scenario.readers.everySeconds} s, ${r.scenario.members.accounts} logging in to the member site every ${r.scenario.members.everySeconds} s; 1× inbound is ${r.scenario.rate} messages/s of sizes ${esc(r.scenario.sizes)}.</p>
<h2>Promises</h2>
<table><tr><th></th><th>Promise (DESIGN.md)</th><th>Measured</th></tr>
${rows}</table>
<h2>Phases</h2>
<table><tr><th>#</th><th>Phase</th><th>Began</th><th>Length</th><th>Inbound</th><th>Mailbox store</th><th>Delivery processes</th></tr>
${phases}
<tr><td>–</td><td>drain (storage as on phase 1)</td><td>${Math.round(r.drainStart)} s</td><td>≤ ${r.scenario.drainSeconds} s</td><td>none</td><td></td><td></td></tr></table>
<h2>Totals</h2>
<table>
<tr><td>Mail</td><td>${r.accepted} accepted, ${r.inDoubt} in doubt, ${r.samples.at(-1)?.delivered ?? 0} delivered (the delivery processes' count), ${r.readBack.messages} read back, ${r.readBack.lost.length} lost, ${r.readBack.duplicated.length} duplicated, ${r.readBack.unexpected.length} unexpected</td></tr>
<tr><td>SMTP replies</td><td>${codes(t.smtp.byCode)}; no answer: ${codes(t.smtp.errors)}</td></tr>
<tr><td>POP3 answers</td><td>${codes(t.pop3.byCode)}; no answer: ${codes(t.pop3.errors)}</td></tr>
<tr><td>Member site</td><td>${codes(t.portal.byCode)}; no answer: ${codes(t.portal.errors)}</td></tr>
<tr><td>Drain rate by delivery processes</td><td>${rates}</td></tr>
<tr><td>Incidents</td><td>${r.incidents.map((i) => `${esc((i.title || `notice ${i.id}`))}: ${Math.round(i.opened)} s – ${i.closed === null ? 'still open' : `${Math.round(i.closed)} s`}`).join('<br>') || 'none'}</td></tr>
<tr><td>Settings</td><td>${Object.entries(r.scenario.settings).map(([k, x]) => `${esc(k)} = ${esc(String(x))}`).join(', ') || 'the defaults'}</td></tr>
</table>
<h2>Over time</h2>
<p>Grey bands are the phases (numbered as above); a red strip at the bottom of a plot is an incident notice open on the status page.</p>
${svgs.map((s) => `<figure>${s}</figure>`).join('\n')}
</body></html>
`;
}

/** Writes report.json, report.html and the PNG plots into `dir`; answers the HTML file's path. */
export function writeReport(dir: string, r: RehearsalRecord, v: readonly Verdict[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ verdicts: v, ...r }, null, 1));
  const plots = charts(r);
  const svgs = plots.map((p) => chartSvg(p.chart));
  plots.forEach((p, i) => writeFileSync(join(dir, p.file), new Resvg(svgs[i]!, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng()));
  const file = join(dir, 'report.html');
  writeFileSync(file, html(r, v, svgs));
  return file;
}
