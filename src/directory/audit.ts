/** One change made through the portal or its API: who did what to which object, from where. */
export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  /** The tenant the object belongs to; null for provider-wide changes (operators, tenants). */
  readonly tenant: string | null;
  /** An account address, `operator:<login>` or `token:<name>`. */
  readonly actor: string;
  readonly ip: string;
  /** What was done, e.g. `account.add`, `forward.set`. */
  readonly action: string;
  /** The object: an address, a domain. */
  readonly target: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * The audit log of directory changes. Contract: `append` is durable when it resolves;
 * `list` answers newest first, only the tenant's entries when one is given.
 */
export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
  list(filter: { tenant?: string; limit: number; beforeId?: number }): Promise<AuditEntry[]>;
}
