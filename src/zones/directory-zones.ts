import type { DkimKeyRecord, DnsRecord, DomainRecord } from '../directory/index.js';
import { toZoneRecord } from './custom-records.js';
import { nextKeyExpiry, zoneRecords, type ZoneRecord, type ZoneSettings } from './zone.js';
import type { ZoneSource } from './answer.js';

/** What the zones need of the directory cache. */
export interface ZoneDirectory {
  domains(): DomainRecord[];
  dkimKeys(domain: string): readonly DkimKeyRecord[];
  /** The records the domain's tenant added. */
  dnsRecords(domain: string): readonly DnsRecord[];
  /** Grows with every directory change: zones are rebuilt when it moves, and it is their serial. */
  readonly loadedVersion: number;
}

/**
 * The hosted domains' zones as the directory cache has them now: a domain added or a DKIM
 * key rotated is in DNS as soon as the cache has it (it follows the store within a second).
 */
export class DirectoryZones implements ZoneSource {
  private built = -1;
  private generation = 0;
  /** When a retired DKIM key next ages out of some zone: the zones are built again then. */
  private rebuildAt = Infinity;
  private byZone = new Map<string, readonly ZoneRecord[]>();

  constructor(
    private readonly directory: ZoneDirectory,
    private readonly settings: ZoneSettings,
  ) {}

  private current(): Map<string, readonly ZoneRecord[]> {
    const version = this.directory.loadedVersion;
    const now = Date.now();
    if (version !== this.built || now >= this.rebuildAt) {
      const domains = this.directory.domains();
      this.byZone = new Map(domains.map((d) => [d.name, this.build(d.name, version, now)]));
      this.built = version;
      this.rebuildAt = Math.min(Infinity, ...domains.map((d) => nextKeyExpiry(this.directory.dkimKeys(d.name), this.settings.dkimRetiredMs, now) ?? Infinity));
      this.generation++;
    }
    return this.byZone;
  }

  /** What Hikyaku publishes for the domain (mail, client setup, website), before the tenant's own records. */
  managed(domain: string): ZoneRecord[] {
    return zoneRecords(domain, this.directory.dkimKeys(domain), this.directory.loadedVersion, this.settings);
  }

  private build(domain: string, version: number, now: number): ZoneRecord[] {
    const own = this.directory.dnsRecords(domain).map((r) => toZoneRecord(domain, r));
    return [...zoneRecords(domain, this.directory.dkimKeys(domain), version, this.settings, now), ...own];
  }

  /** Grows whenever the zones are built again (a directory change, or a retired key aging out). */
  get version(): number {
    this.current();
    return this.generation;
  }

  zoneOf(name: string): string | undefined {
    const zones = this.current();
    // The longest hosted domain that is the name or a parent of it.
    for (let n = name; n; n = n.slice(n.indexOf('.') + 1)) {
      if (zones.has(n)) return n;
      if (!n.includes('.')) break;
    }
    return undefined;
  }

  zones(): string[] {
    return [...this.current().keys()];
  }

  records(zone: string): readonly ZoneRecord[] {
    return this.current().get(zone) ?? [];
  }
}
