import type { DkimKeyRecord, DomainRecord } from '../directory/index.js';
import { zoneRecords, type ZoneRecord, type ZoneSettings } from './zone.js';
import type { ZoneSource } from './answer.js';

/** What the zones need of the directory cache. */
export interface ZoneDirectory {
  domains(): DomainRecord[];
  dkimKeys(domain: string): readonly DkimKeyRecord[];
  /** Grows with every directory change: zones are rebuilt when it moves, and it is their serial. */
  readonly loadedVersion: number;
}

/**
 * The hosted domains' zones as the directory cache has them now: a domain added or a DKIM
 * key rotated is in DNS as soon as the cache has it (it follows the store within a second).
 */
export class DirectoryZones implements ZoneSource {
  private built = -1;
  private byZone = new Map<string, readonly ZoneRecord[]>();

  constructor(
    private readonly directory: ZoneDirectory,
    private readonly settings: ZoneSettings,
  ) {}

  private current(): Map<string, readonly ZoneRecord[]> {
    const version = this.directory.loadedVersion;
    if (version !== this.built) {
      this.byZone = new Map(this.directory.domains().map((d) => [d.name, zoneRecords(d.name, this.directory.dkimKeys(d.name), version, this.settings)]));
      this.built = version;
    }
    return this.byZone;
  }

  get version(): number {
    return this.directory.loadedVersion;
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
