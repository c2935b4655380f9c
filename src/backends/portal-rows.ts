/** The portal's state and the notices as every backend's queries name their columns (flags as 0/1, JSON as text). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken, PortalSession, SessionKind } from '../auth/index.js';
import type { ServiceName, ServiceNotice } from '../notices/index.js';

export interface SessionRow {
  subject: string;
  kind: SessionKind;
  csrf: string;
  ip: string;
  created_at: number;
  seen_at: number;
  expires_at: number;
}

export const toSession = (r: SessionRow): PortalSession => ({ subject: r.subject, kind: r.kind, csrf: r.csrf, ip: r.ip, createdAt: r.created_at, seenAt: r.seen_at, expiresAt: r.expires_at });

export interface TokenRow {
  id: string;
  secret_hash: string;
  name: string;
  tenant: string | null;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
}

export const toToken = (r: TokenRow): ApiToken => ({ id: r.id, name: r.name, tenant: r.tenant, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at });

export const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface NoticeRow {
  id: number;
  kind: ServiceNotice['kind'];
  title: string;
  body: string;
  services: string;
  tenants: string;
  starts_at: number;
  ends_at: number | null;
  service_stops: number;
  created_at: number;
  updated_at: number;
  revision: number;
  closed_at: number | null;
  author: string;
  draft: number;
  auto_service: ServiceName | null;
}

export const toNotice = (r: NoticeRow): ServiceNotice => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  body: r.body,
  services: JSON.parse(r.services) as ServiceNotice['services'],
  tenants: JSON.parse(r.tenants) as string[],
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  serviceStops: r.service_stops === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revision: r.revision,
  closedAt: r.closed_at,
  author: r.author,
  draft: r.draft === 1,
  autoService: r.auto_service,
});

/** A new API token: its id, the secret shown once, and the token as presented (`hky_<id>_<secret>`). */
export function newApiToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, secret, token: `hky_${id}_${secret}` };
}

/** The id and secret of a presented token, if it has the token's form. */
export function parseApiToken(presented: string): { id: string; secret: string } | undefined {
  const m = /^hky_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** True if the secret's hash is the stored one (in constant time). */
export const secretMatches = (row: TokenRow, secret: string) => timingSafeEqual(Buffer.from(row.secret_hash), Buffer.from(hashOf(secret)));

/** A token's last use is written at most once a minute: a busy automation does not turn every call into a write. */
export const tokenUseDue = (row: TokenRow, now: number) => row.last_used_at === null || now - row.last_used_at > 60_000;
