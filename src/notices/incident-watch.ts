import type { Logger } from '../observability/index.js';
import type { NoticeInput, NoticeStore, ServiceName, ServiceNotice } from './types.js';

export type ServiceState = 'ok' | 'degraded' | 'disrupted';

/** What the status signals say at one moment: each service's state and the figures behind it. */
export interface ServiceSignals {
  readonly at: number;
  readonly services: Readonly<Record<ServiceName, { readonly state: ServiceState; readonly detail: string }>>;
  /** The queue's figures; null when the spool did not answer in time. */
  readonly queue: { readonly waiting: number; readonly deferred: number; readonly oldestSeconds: number } | null;
  /** How long the mailbox store took to answer a trivial read; null when it did not in time. */
  readonly storeMs: number | null;
  /** What deliveries and readers met over the last interval (see ActivityRates). */
  readonly rates: ActivityRates;
}

/** Running totals of this process's deliveries and readers (counters, never reset). */
export interface ActivityTotals {
  /** Deliveries into mailboxes here, and how many of them failed for a while (deferred). */
  readonly deliveries: number;
  readonly deliveriesDeferred: number;
  /** Sum and count of delivery latencies (acceptance to mailbox or remote 250), in seconds. */
  readonly latencySum: number;
  readonly latencyCount: number;
  /** POP3 status replies, and how many said -ERR [SYS/TEMP] (the store did not answer in time). */
  readonly readerReplies: number;
  readonly readerErrors: number;
}

/** Rates over one interval; null where too little happened to tell. */
export interface ActivityRates {
  readonly deliveryFailurePercent: number | null;
  readonly readerErrorPercent: number | null;
  readonly latencySeconds: number | null;
}

export const NO_RATES: ActivityRates = { deliveryFailurePercent: null, readerErrorPercent: null, latencySeconds: null };

/** Too few deliveries or reader replies in an interval say nothing about a rate. */
const MIN_DELIVERIES = 10;
const MIN_REPLIES = 20;

/** The rates between two readings of the totals. */
export function ratesBetween(before: ActivityTotals | undefined, now: ActivityTotals): ActivityRates {
  if (!before) return NO_RATES;
  const d = (k: keyof ActivityTotals) => Math.max(0, now[k] - before[k]);
  const deliveries = d('deliveries');
  const replies = d('readerReplies');
  const count = d('latencyCount');
  return {
    deliveryFailurePercent: deliveries >= MIN_DELIVERIES ? (100 * d('deliveriesDeferred')) / deliveries : null,
    readerErrorPercent: replies >= MIN_REPLIES ? (100 * d('readerErrors')) / replies : null,
    latencySeconds: count > 0 ? d('latencySum') / count : null,
  };
}

export interface IncidentRules {
  /** off: none; draft: operators publish it; publish: customers see it at once. */
  readonly mode: 'off' | 'draft' | 'publish';
  /** A service must be out of order this long before an incident opens. */
  readonly afterMs: number;
  /** Called with each incident that customers can see as soon as it opens (to mail their administrators). */
  readonly onPublished?: (notice: ServiceNotice) => void;
}

/**
 * Automatic incident notices: a service whose signal stays out of order for `afterMs` gets
 * an incident with the measured figures (a draft, or published); when the signal is back
 * to normal the incident says so, with the time it took, and is closed. Each portal
 * instance watches; the store keeps one open incident per service.
 */
export class IncidentWatch {
  private readonly badSince = new Map<ServiceName, number>();
  private readonly worst = new Map<ServiceName, ServiceState>();

  constructor(
    private readonly store: NoticeStore,
    private readonly rules: IncidentRules,
    private readonly log: Logger,
  ) {}

  async observe(signals: ServiceSignals): Promise<void> {
    if (this.rules.mode === 'off') return;
    const open = (await this.store.listNotices({ open: true, limit: 100 })).filter((n) => n.autoService !== null);
    for (const [service, { state }] of Object.entries(signals.services) as [ServiceName, { state: ServiceState }][]) {
      const incident = open.find((n) => n.autoService === service);
      if (state === 'ok') {
        this.badSince.delete(service);
        this.worst.delete(service);
        if (incident) await this.recovered(incident, signals);
        continue;
      }
      const since = this.badSince.get(service) ?? signals.at;
      this.badSince.set(service, since);
      const worse = state === 'disrupted' && this.worst.get(service) !== 'disrupted';
      if (worse || !this.worst.has(service)) this.worst.set(service, state);
      if (!incident && signals.at - since >= this.rules.afterMs) await this.open(service, since, signals);
      else if (incident && worse) await this.store.reviseNotice(incident.id, { ...inputOf(incident), body: `${incident.body}\n\n${describe(service, signals)}` });
    }
  }

  private async open(service: ServiceName, since: number, signals: ServiceSignals): Promise<void> {
    const draft = this.rules.mode === 'draft';
    const opened = await this.store.openAutoIncident(service, { kind: 'incident', title: TITLES[service], body: describe(service, signals), services: [service], tenants: [], startsAt: since, endsAt: null, serviceStops: signals.services[service].state === 'disrupted' }, draft);
    if (!opened) return;
    this.log.warn({ notice: opened.id, service, draft }, 'automatic incident opened');
    if (!draft) this.rules.onPublished?.(opened);
  }

  private async recovered(incident: ServiceNotice, signals: ServiceSignals): Promise<void> {
    const minutes = Math.round((signals.at - incident.startsAt) / 60_000);
    const at = clock(signals.at);
    const [took, tookJa] = minutes < 1 ? ['less than a minute', '1 分未満'] : [`about ${minutes} min`, `約 ${minutes} 分`];
    const body = `${incident.body}\n\nRecovered at ${at} UTC, after ${took}. ${queueFigures(signals, 'en')}\n${at}（UTC）に復旧しました（${tookJa}）。${queueFigures(signals, 'ja')}`;
    await this.store.reviseNotice(incident.id, { ...inputOf(incident), body, endsAt: signals.at });
    await this.store.closeNotice(incident.id);
    this.log.info({ notice: incident.id, service: incident.autoService }, 'automatic incident recovered');
  }
}

const inputOf = (n: ServiceNotice): NoticeInput => ({ kind: n.kind, title: n.title, body: n.body, services: n.services, tenants: n.tenants, startsAt: n.startsAt, endsAt: n.endsAt, serviceStops: n.serviceStops });

const TITLES: Record<ServiceName, string> = {
  receiving: 'メールの受信の障害 / Receiving mail disrupted',
  sending: 'メールの配送の遅延 / Mail delivery delayed',
  mailboxes: 'メールの閲覧の障害 / Reading mail disrupted',
  'member-site': '会員サイトの障害 / Member site disrupted',
};

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function queueFigures(s: ServiceSignals, lang: 'en' | 'ja'): string {
  if (!s.queue) return lang === 'en' ? 'The queue could not be counted.' : '配送待ちの件数は取得できませんでした。';
  const minutes = Math.round(s.queue.oldestSeconds / 60);
  return lang === 'en' ? `${s.queue.waiting} message(s) waiting; the oldest for ${minutes} min.` : `配送待ち ${s.queue.waiting} 通、最も古いもので ${minutes} 分経過。`;
}

/** The measured figures in both languages, as the notice's text. */
function describe(service: ServiceName, s: ServiceSignals): string {
  const at = clock(s.at);
  const state = s.services[service].state;
  const en: Record<ServiceName, string> = {
    receiving: 'The mail spool does not answer: incoming mail is refused with a temporary error, and senders\' servers will try again.',
    sending: `Mail is waiting longer than usual before it reaches mailboxes and other servers${s.rates.deliveryFailurePercent !== null ? ` (${Math.round(s.rates.deliveryFailurePercent)}% of deliveries had to be retried)` : ''}. Nothing is lost: it is delivered in order of arrival.`,
    mailboxes: s.storeMs === null ? 'The mailbox storage does not answer: POP3 and IMAP logins fail for now. Incoming mail is accepted and kept in the queue; nothing is lost.' : `The mailbox storage answers slowly (${Math.round(s.storeMs)} ms${s.rates.readerErrorPercent ? `; ${Math.round(s.rates.readerErrorPercent)}% of POP3 answers were "try again later"` : ''}): reading mail is slow. Incoming mail is accepted and kept in the queue.`,
    'member-site': 'The member site cannot be used.',
  };
  const ja: Record<ServiceName, string> = {
    receiving: 'メールの一時保存領域が応答しません。受信メールは一時エラーで拒否され、送信元のサーバーが再送します。',
    sending: `メールボックスや他社サーバーへの配送に通常より時間がかかっています${s.rates.deliveryFailurePercent !== null ? `（配送の ${Math.round(s.rates.deliveryFailurePercent)}% が再試行）` : ''}。メールは失われず、受信順に配送されます。`,
    mailboxes: s.storeMs === null ? 'メールボックスの保存領域が応答しないため、POP3/IMAP でのログインができません。受信メールは受け付けてキューに保存しており、失われません。' : `メールボックスの保存領域の応答が遅くなっています（${Math.round(s.storeMs)} ミリ秒${s.rates.readerErrorPercent ? `、POP3 の応答の ${Math.round(s.rates.readerErrorPercent)}% が一時エラー` : ''}）。受信メールは受け付けてキューに保存しています。`,
    'member-site': '会員サイトがご利用いただけません。',
  };
  return `[${at} UTC, ${state}] ${en[service]} ${queueFigures(s, 'en')}\n[${at} UTC] ${ja[service]}${queueFigures(s, 'ja')}`;
}
