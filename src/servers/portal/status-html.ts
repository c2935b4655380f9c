import type { ServiceName, ServiceNotice } from '../../notices/index.js';
import type { ServiceState, StatusReport } from './status-page.js';

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
<section><h2>${w.open}</h2>${r.open.length ? r.open.map((n) => notice(n, lang)).join('\n') : `<p>${w.none}</p>`}</section>
<section><h2>${w.history}</h2>${r.history.length ? r.history.map((n) => notice(n, lang)).join('\n') : `<p>${w.noHistory}</p>`}</section>
</main>
</body>
</html>
`;
}

export const STATUS_CSS = `body{margin:0;font-family:system-ui,'Hiragino Sans','Noto Sans JP','IPAGothic',sans-serif;color:#1d2430;background:#f5f7fa;line-height:1.5}
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
