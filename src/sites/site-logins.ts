import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Each website's upload login (SFTP: the domain as user name, a password its tenant
 * administrator sets): the password's hash, kept beside the sites under `.logins/` (never
 * served: no hosted domain starts with a dot), readable by the web role on any node that
 * shares the sites.
 */
export class SiteLogins {
  constructor(private readonly root: string) {}

  private file(domain: string): string {
    return join(this.root, '.logins', domain);
  }

  async hash(domain: string): Promise<string | undefined> {
    return (await readFile(this.file(domain), 'utf8').catch(() => undefined))?.trim() || undefined;
  }

  /** Sets the hash, or removes the login (undefined): uploads over SFTP stop. */
  async set(domain: string, hash: string | undefined): Promise<void> {
    if (hash === undefined) return rm(this.file(domain), { force: true });
    await mkdir(join(this.root, '.logins'), { recursive: true, mode: 0o700 });
    await writeFile(this.file(domain), hash, { mode: 0o600 });
  }
}
