/** The services a notice can be about, as the status page names them. */
export const SERVICES = ['receiving', 'sending', 'mailboxes', 'member-site'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * A maintenance or incident notice that operators write for customers: shown on the status
 * page and the member site (login page and every page), revised in place (the revision is
 * counted and dated, as in "updated 10/19"), closed when over.
 */
export interface ServiceNotice {
  readonly id: number;
  readonly kind: 'maintenance' | 'incident';
  readonly title: string;
  readonly body: string;
  readonly services: readonly ServiceName[];
  /** Tenants it concerns; empty: every customer. */
  readonly tenants: readonly string[];
  readonly startsAt: number;
  readonly endsAt: number | null;
  /** True when the service stops during it (not just slows down). */
  readonly serviceStops: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** 0 for the first text; each revision adds one. */
  readonly revision: number;
  readonly closedAt: number | null;
  readonly author: string;
  /** A draft is shown to operators only, until one publishes it. */
  readonly draft: boolean;
  /** The service an automatic incident is about (opened from the status signals); null for one an operator wrote. */
  readonly autoService: ServiceName | null;
}

export type NoticeInput = Pick<ServiceNotice, 'kind' | 'title' | 'body' | 'services' | 'tenants' | 'startsAt' | 'endsAt' | 'serviceStops'>;

/**
 * Notices, where every portal instance reads them (the directory store). Contract: `revise`
 * bumps `revision` and `updatedAt`, `publish` only `updatedAt`; `close` sets `closedAt` once; `list`
 * answers newest first (drafts too), `open` ones only (not closed) when asked, within
 * `since` otherwise; at most one automatic incident per service is open at a time.
 */
export interface NoticeStore {
  createNotice(input: NoticeInput, author: string): Promise<ServiceNotice>;
  reviseNotice(id: number, input: NoticeInput): Promise<ServiceNotice | undefined>;
  closeNotice(id: number): Promise<ServiceNotice | undefined>;
  /** Makes a draft public (not a revision: customers never saw the draft); the notice as it is now. */
  publishNotice(id: number): Promise<ServiceNotice | undefined>;
  /**
   * Opens an automatic incident about `service`, unless one about it is open already
   * (whichever portal instance came first): then undefined.
   */
  openAutoIncident(service: ServiceName, input: NoticeInput, draft: boolean): Promise<ServiceNotice | undefined>;
  listNotices(filter: { open?: boolean; since?: number; limit: number }): Promise<ServiceNotice[]>;
}

/** Whether a notice concerns a tenant (or, with none given, everybody); drafts concern nobody yet. */
export const noticeConcerns = (n: ServiceNotice, tenant: string | undefined) => !n.draft && (n.tenants.length === 0 || (tenant !== undefined && n.tenants.includes(tenant)));

/** Published, for every customer: what the status page and the login page show. */
export const isPublicNotice = (n: ServiceNotice) => !n.draft && n.tenants.length === 0;

/** One sample of the backlog, for the status page's plots. */
export interface BacklogSample {
  /** The moment the sample stands for (ms, floored to the sampling interval). */
  readonly at: number;
  /** Entries not yet done (queued, in delivery, deferred). */
  readonly waiting: number;
  readonly deferred: number;
  readonly oldestSeconds: number;
  /** Mean delivery latency over the interval (seconds); null when nothing was delivered. */
  readonly latencySeconds: number | null;
}

/**
 * The backlog over time, kept compact (one sample per interval, a week of them). Contract: a
 * second sample for the same interval replaces the first (several portal instances sample);
 * older than `keepMs` ones go; `samples` answers oldest first.
 */
export interface BacklogHistory {
  recordSample(sample: BacklogSample, intervalMs: number, keepMs: number): Promise<void>;
  samples(since: number): Promise<BacklogSample[]>;
}
