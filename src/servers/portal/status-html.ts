import type { BacklogSample, ServiceName, ServiceNotice, ServiceState } from '../../notices/index.js';
import type { StatusReport } from './status-page.js';

export type StatusLang = 'ja' | 'en';

const WORDS = {
  en: {
    title: 'Service status',
    updated: 'As of',
    services: { receiving: 'Receiving mail', sending: 'Delivering and sending mail', mailboxes: 'Reading mail (POP3/IMAP)', 'member-site': 'Member site' } as Record<ServiceName, string>,
    states: { ok: 'Operating normally', degraded: 'Delayed', disrupted: 'Disrupted' } as Record<ServiceState, string>,
    queue: (w: number, age: string) => `${w} message(s) waiting; the oldest for ${age}.`,
    queueEmpty: 'No mail waiting.',
    open: 'Current notices',
    none: 'No current notices.',
    history: 'Past 30 days',
    noHistory: 'Nothing in the past 30 days.',
    maintenance: 'Maintenance',
    incident: 'Incident',
    stops: 'The service stops during this time.',
    from: 'From',
    until: 'until',
    updatedRev: 'updated',
    closed: 'Closed',
    other: '日本語',
    plots: 'Mail waiting',
    plotWaiting: 'Messages waiting, last 24 hours',
    plotOldest: 'Age of the oldest waiting message (minutes), last 24 hours',
    plotWeek: 'Messages waiting, last 7 days (hourly peaks)',
    plotLatency: 'Time from arrival to delivery (seconds, mean per interval), last 24 hours',
    noSamples: 'No figures yet.',
  },
  ja: {
    title: 'サービス稼働状況',
    updated: '更新日時',
    services: { receiving: 'メールの受信', sending: 'メールの配送・送信', mailboxes: 'メールの閲覧（POP3/IMAP）', 'member-site': '会員サイト' } as Record<ServiceName, string>,
    states: { ok: '正常', degraded: '遅延', disrupted: '障害' } as Record<ServiceState, string>,
    queue: (w: number, age: string) => `配送待ち ${w} 通、最も古いもので ${age} 経過。`,
    queueEmpty: '配送待ちのメールはありません。',
    open: '現在のお知らせ',
    none: '現在お知らせはありません。',
    history: '過去 30 日間',
    noHistory: '過去 30 日間のお知らせはありません。',
    maintenance: 'メンテナンス',
    incident: '障害',
    stops: 'この間、サービスは停止します。',
    from: '期間',
    until: '〜',
    updatedRev: '更新',
    closed: '終了',
    other: 'English',
    plots: '配送待ちのメール',
    plotWaiting: '配送待ちの通数（過去 24 時間）',
    plotOldest: '最も古い配送待ちメールの経過時間（分、過去 24 時間）',
    plotWeek: '配送待ちの通数（過去 7 日間、1 時間ごとの最大）',
    plotLatency: '受信から配送までの時間（秒、区間ごとの平均、過去 24 時間）',
    noSamples: 'まだデータがありません。',
  },
} as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function age(seconds: number, lang: StatusLang): string {
  const m = Math.round(seconds / 60);
  if (lang === 'ja') return m < 60 ? `${m} 分` : `${Math.floor(m / 60)} 時間 ${m % 60} 分`;
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const date = (ms: number, lang: StatusLang) => new Date(ms).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'short' }) + (lang === 'ja' ? '' : ' JST');

function notice(n: ServiceNotice, lang: StatusLang): string {
  const w = WORDS[lang];
  const period = `${w.from} ${date(n.startsAt, lang)}${n.endsAt ? ` ${w.until} ${date(n.endsAt, lang)}` : ''}`;
  const revised = n.revision > 0 ? ` <span class="rev">(${w.updatedRev} ${date(n.updatedAt, lang)})</span>` : '';
  return `<article class="notice ${n.kind}">
<h3><span class="tag">${n.kind === 'incident' ? w.incident : w.maintenance}</span> ${esc(n.title)}${revised}</h3>
<p class="when">${period}${n.closedAt ? ` — ${w.closed} ${date(n.closedAt, lang)}` : ''}</p>
<p class="services">${n.services.map((s) => esc(w.services[s])).join(' · ')}</p>
${n.serviceStops ? `<p class="stops">${w.stops}</p>` : ''}
<div class="body">${esc(n.body).replace(/\r?\n/g, '<br>')}</div>
</article>`;
}

/**
 * A line plot as inline SVG, drawn on the server so the page needs no script: the series
 * over [from, to], its maximum on the y axis, the period's ends on the x axis. The title
 * and a text summary make it readable to screen readers.
 */
function plot(samples: readonly BacklogSample[], value: (s: BacklogSample) => number, title: string, from: number, to: number, lang: StatusLang): string {
  const W = 640;
  const H = 160;
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  if (samples.length === 0) return `<figure><figcaption>${title}</figcaption><p class="muted">${WORDS[lang].noSamples}</p></figure>`;
  const max = Math.max(1, ...samples.map(value));
  const x = (t: number) => pad.l + ((t - from) / Math.max(1, to - from)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(value(s)).toFixed(1)}`).join(' ');
  const last = samples[samples.length - 1]!;
  const tick = (t: number) => new Date(t).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return `<figure><figcaption>${title}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(`${title}: max ${max}, now ${value(last)}`)}">
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#b8c0cc"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#b8c0cc"/>
<text x="${pad.l - 6}" y="${pad.t + 10}" text-anchor="end" font-size="11" fill="#5b6472">${max}</text><text x="${pad.l - 6}" y="${H - pad.b}" text-anchor="end" font-size="11" fill="#5b6472">0</text>
<text x="${pad.l}" y="${H - 6}" font-size="11" fill="#5b6472">${esc(tick(from))}</text><text x="${W - pad.r}" y="${H - 6}" text-anchor="end" font-size="11" fill="#5b6472">${esc(tick(to))}</text>
<polyline points="${points}" fill="none" stroke="#1f5fbf" stroke-width="2"/>${samples.length === 1 ? `<circle cx="${x(last.at).toFixed(1)}" cy="${y(value(last)).toFixed(1)}" r="3" fill="#1f5fbf"/>` : ''}
</svg></figure>`;
}

/** The status page as HTML that needs no JavaScript (DESIGN.md: server-rendered). */
export function statusHtml(r: StatusReport, lang: StatusLang): string {
  const w = WORDS[lang];
  const rows = (Object.entries(r.services) as [ServiceName, { state: ServiceState }][])
    .map(([name, s]) => `<tr><th scope="row">${w.services[name]}</th><td class="state ${s.state}">${w.states[s.state]}</td></tr>`)
    .join('\n');
  const queue = r.queue ? (r.queue.waiting === 0 ? w.queueEmpty : w.queue(r.queue.waiting, age(r.queue.oldestSeconds, lang))) : '';
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="60">
<title>${w.title}</title><link rel="stylesheet" href="/status.css"></head>
<body>
<header><h1>${w.title}</h1><a href="/status?lang=${lang === 'ja' ? 'en' : 'ja'}" lang="${lang === 'ja' ? 'en' : 'ja'}">${w.other}</a></header>
<main>
<p class="updated">${w.updated}: ${date(r.at, lang)}</p>
<table class="services"><caption class="sr-only">${w.title}</caption>${rows}</table>
<p class="queue">${queue}</p>
<section><h2>${w.plots}</h2>
${plot(r.day, (x) => x.waiting, w.plotWaiting, r.at - 86_400_000, r.at, lang)}
${plot(r.day, (x) => Math.round(x.oldestSeconds / 60), w.plotOldest, r.at - 86_400_000, r.at, lang)}
${plot(r.day.filter((x) => x.latencySeconds !== null), (x) => Math.round(x.latencySeconds! * 10) / 10, w.plotLatency, r.at - 86_400_000, r.at, lang)}
${plot(r.week, (x) => x.waiting, w.plotWeek, r.at - 7 * 86_400_000, r.at, lang)}
</section>
<section><h2>${w.open}</h2>${r.open.length ? r.open.map((n) => notice(n, lang)).join('\n') : `<p>${w.none}</p>`}</section>
<section><h2>${w.history}</h2>${r.history.length ? r.history.map((n) => notice(n, lang)).join('\n') : `<p>${w.noHistory}</p>`}</section>
</main>
</body>
</html>
`;
}

export const STATUS_CSS = `figure{margin:1rem 0;background:#fff;border:1px solid #d8dde5;border-radius:6px;padding:.6rem .8rem}figcaption{font-size:.9rem;color:#5b6472;margin-bottom:.3rem}.muted{color:#5b6472}
body{margin:0;font-family:system-ui,'Hiragino Sans','Noto Sans JP','IPAGothic',sans-serif;color:#1d2430;background:#f5f7fa;line-height:1.5}
header{display:flex;justify-content:space-between;align-items:center;padding:.8rem 1.5rem;background:#fff;border-bottom:1px solid #d8dde5}
h1{font-size:1.3rem;margin:0}main{max-width:60rem;margin:1.5rem auto;padding:0 1.5rem}
table.services{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dde5}
table.services th,table.services td{padding:.7rem 1rem;border-bottom:1px solid #d8dde5;text-align:left}
.state.ok{color:#1c7a3e;font-weight:600}.state.degraded{color:#8a5a00;font-weight:600}.state.disrupted{color:#b3261e;font-weight:700}
.updated,.when,.services,.rev{color:#5b6472;font-size:.9rem}
.notice{background:#fff;border:1px solid #d8dde5;border-left:4px solid #1f5fbf;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
.notice.incident{border-left-color:#b3261e}.notice h3{margin:0 0 .3rem;font-size:1.05rem}
.tag{font-size:.75rem;background:#eef1f5;border-radius:4px;padding:.1rem .4rem;margin-right:.3rem}
.stops{color:#b3261e;font-weight:600}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;
