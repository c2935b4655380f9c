/** The member site's only way to the server: the JSON API under /api/v1. */

export interface Problem {
  status: number;
  code: string;
  detail: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

let csrf = '';

/** The session's CSRF token, sent with every call that changes something. */
export function setCsrf(token: string): void {
  csrf = token;
}

export const csrfToken = () => csrf;

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return send<T>(method, path, headers, body === undefined ? undefined : JSON.stringify(body));
}

/** Sends a file as the request body (uploads), with its own content type. */
export async function upload<T>(method: string, path: string, file: Blob, type = file.type || 'application/octet-stream'): Promise<T> {
  return send<T>(method, path, { accept: 'application/json', 'content-type': type }, file);
}

async function send<T>(method: string, path: string, headers: Record<string, string>, body: BodyInit | undefined): Promise<T> {
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError({ status: 0, code: 'ERR_NETWORK', detail: 'The server cannot be reached.' });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError({ status: res.status, code: 'ERR_INTERNAL', detail: `The server answered ${res.status} without a readable body.` });
  }
  if (!res.ok) throw new ApiError(data as Problem);
  return data as T;
}

export const enc = encodeURIComponent;

/**
 * A long operation's answer, streamed as NDJSON: one progress line per batch, then a result
 * or a problem. Each line goes to `each`; a problem line (or a refused request) throws.
 */
export async function readProgress<T extends { problem?: Problem }>(res: Response, each: (line: T) => void): Promise<void> {
  if (!res.ok || !res.body) throw new ApiError((await res.json()) as Problem);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const msg = JSON.parse(line) as T;
      if (msg.problem) throw new ApiError(msg.problem);
      each(msg);
    }
  }
}

export interface Me {
  kind: 'account' | 'operator';
  address?: string;
  login?: string;
  name?: string;
  role: string;
  tenant?: string;
  admin: boolean;
  domains: string[];
  csrf: string;
  mustChangePassword: boolean;
}

export interface Usage {
  messages: number;
  bytes: number;
}

export interface Account {
  address: string;
  domain: string;
  name: string;
  department: string;
  role: 'user' | 'domain-admin' | 'tenant-admin';
  state: 'active' | 'disabled';
  quotaBytes: number;
  mustChangePassword: boolean;
  createdAt: string;
  lastLogin: { at: string; protocol: string } | null;
  usage: Usage | null;
  forward?: Forward | null;
  /** One's own effective permissions (GET /me). */
  policy?: Policy;
  /** Mail for one that waits after a failed attempt (GET /me); null when it could not be told. */
  waiting?: { count: number; oldestSeconds: number } | null;
}

export interface Forward {
  targets: string[];
  keepCopy: boolean;
  enabled: boolean;
  conditions: { subjectContains: string; fromContains: string } | null;
}

export interface AutoReply {
  enabled: boolean;
  subject: string;
  body: string;
  startsAt: string | null;
  endsAt: string | null;
  /** Each sender gets one reply per this many days. */
  intervalDays: number;
}

export interface AccountPage {
  items: Account[];
  total: number;
  page: number;
  pageSize: number;
  usageUnavailable: boolean;
}

export interface Alias {
  address: string;
  domain: string;
  targets: string[];
  catchAll: boolean;
}

export interface AuditEntry {
  id: number;
  at: string;
  tenant: string | null;
  actor: string;
  ip: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

export interface Policy {
  changePassword: boolean;
  forwardOutside: boolean;
  autoReply: boolean;
  pop3: boolean;
  imap: boolean;
  submission: boolean;
  allowFrom: string[];
  /** An account's: true while it follows its domain's. */
  inherited?: boolean;
}

export interface ImportRow {
  line: number;
  address: string;
  name: string;
  department: string;
  quotaBytes: number | null;
  role: string | null;
  hasPassword: boolean;
  action: 'add' | 'update' | 'error';
  error?: string;
}

export interface ImportPreview {
  encoding: string;
  counts: { add: number; update: number; error: number };
  rows: ImportRow[];
}

export type EntryState = 'queued' | 'active' | 'deferred' | 'held';

export interface QueueEntryView {
  id: number;
  messageId: string;
  sender: string;
  rcpt: string;
  route: 'local' | 'remote';
  state: EntryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  receivedAt: string;
}

export interface QueueSummary {
  byState: Record<EntryState, number>;
  oldestSeconds: number;
  bucketsMinutes: number[];
  shape: { key: string; total: number; counts: number[] }[];
  reasons: { error: string | null; count: number; oldestAt: string }[];
}

export interface QueuedMessageView {
  messageId: string;
  sender: string;
  size: number;
  receivedAt: string;
  smtputf8: boolean;
  headers: Record<string, string>;
  entries: QueueEntryView[];
  attempts: { entry: number; at: string; error: string }[];
}
