import type { DirectoryStore } from '../../src/directory/index.js';
import { python, testPasswordHash, type TestService } from './service.js';
import { POPLIB_SESSION } from './py.js';

export interface PortalReply {
  status: number;
  type: string;
  body: any;
  text: string;
}

/** An HTTP client of the portal's JSON API with one browser's state: the session cookie and CSRF token. */
export class PortalClient {
  cookie = '';
  csrf = '';

  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<PortalReply> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Buffer)) h['content-type'] ??= 'application/json';
    if (method !== 'GET' && this.csrf && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    const res = await fetch(`${this.base}${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' || body instanceof Buffer ? body : JSON.stringify(body) });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('hikyaku_session='));
    if (set) this.cookie = set.split(';')[0]!.endsWith('=') ? '' : set.split(';')[0]!;
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed, text };
  }

  async login(username: string, password = 'test-password'): Promise<PortalReply> {
    const r = await this.call('POST', '/api/v1/session', { username, password });
    if (r.status === 200) this.csrf = r.body.csrf;
    return r;
  }
}

/**
 * Two tenants: acme (a.test: admin@ tenant administrator, user1@, user2@) and beta (b.test:
 * admin@, bob@ with a forward, the alias sales@ and a catch-all). Password test-password.
 */
export async function seedTenants(store: DirectoryStore): Promise<void> {
  const passwordHash = await testPasswordHash();
  await store.addTenant('acme', 'Acme');
  await store.addTenant('beta', 'Beta');
  await store.addDomain('a.test', undefined, 'acme');
  await store.addDomain('b.test', undefined, 'beta');
  await store.addAccount({ address: 'admin@a.test', passwordHash, quotaBytes: 0, role: 'tenant-admin' });
  await store.addAccount({ address: 'user1@a.test', passwordHash, quotaBytes: 0 });
  await store.addAccount({ address: 'user2@a.test', passwordHash, quotaBytes: 0 });
  await store.addAccount({ address: 'admin@b.test', passwordHash, quotaBytes: 0, role: 'tenant-admin' });
  await store.addAccount({ address: 'bob@b.test', passwordHash, quotaBytes: 5_000_000, name: 'Bob' });
  await store.setForward('bob@b.test', ['admin@b.test'], true);
  await store.setAlias('sales@b.test', ['bob@b.test']);
  await store.setAlias('@b.test', ['admin@b.test']);
}

/** Every message in a mailbox, read with Python's poplib over plain POP3 (loopback logins). */
export async function readMailbox(pop3Port: number, user: string, password = 'test-password'): Promise<string[]> {
  type Pop = { results: (string | number[])[] };
  const stat = await python<Pop>(POPLIB_SESSION, [pop3Port, 'plain', user, password, '[["stat"]]']);
  const n = (stat.results[0] as number[] | undefined)?.[0] ?? 0;
  if (n === 0) return [];
  const all = await python<Pop>(POPLIB_SESSION, [pop3Port, 'plain', user, password, JSON.stringify(Array.from({ length: n }, (_, i) => ['retr', i + 1]))]);
  return all.results as string[];
}

/** The two tenants of `seedTenants` and the operator `ops` in a running test service; returns ops logged in to the portal. */
export async function seedWithOperator(t: TestService): Promise<PortalClient> {
  await seedTenants(t.directoryStore);
  await t.directoryStore.addOperator('ops', await testPasswordHash());
  await t.service.directory.refresh();
  const ops = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
  await ops.login('ops');
  return ops;
}
