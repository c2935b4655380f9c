import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, USERS, cpuOf, memoryOf, type Memory, type Target } from './target.js';

const ANCHOR = new URL('../../../../shared/anchors/postfix-dovecot/', import.meta.url).pathname;
const VMAIL = 5000;

function sh(cmd: string, args: string[] = []): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Postfix (SMTP, queue) + Dovecot (LMTP delivery, POP3), set up by shared/anchors/postfix-dovecot. */
const isAnchorProcess = (exe: string) => exe.startsWith('/usr/lib/postfix/') || exe.startsWith('/usr/lib/dovecot/') || exe === '/usr/sbin/dovecot';

export class AnchorTarget implements Target {
  readonly name = 'postfix+dovecot';
  readonly smtpPort = 12525;
  readonly pop3Port = 11110;
  readonly imapPort = 11430;
  readonly users = USERS;
  readonly password = PASSWORD;
  readonly durability = 'Postfix cleanup fsyncs the queue file before the 250; Dovecot LMTP delivers with mail_fsync=optimized';

  static setup(): void {
    sh('bash', [join(ANCHOR, 'setup.sh')]);
  }

  async reset(options: { deliveryPaused?: boolean } = {}): Promise<void> {
    sh('postconf', ['-X', 'defer_transports']);
    sh('bash', [join(ANCHOR, 'reset.sh')]);
    if (options.deliveryPaused) {
      sh('postconf', ['-e', 'defer_transports = lmtp']);
      sh('postfix', ['reload']);
    }
  }

  async resumeDelivery(): Promise<void> {
    sh('postconf', ['-X', 'defer_transports']);
    sh('postfix', ['reload']);
    sh('postqueue', ['-f']);
  }

  /** No file in any of Postfix's queues (the same as an empty `postqueue -j`, without listing 20,000 entries). */
  async queueEmpty(): Promise<boolean> {
    const hasFile = (dir: string): boolean => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return false;
      }
      return entries.some((e) => (e.isDirectory() ? hasFile(join(dir, e.name)) : true));
    };
    return !['maildrop', 'incoming', 'active', 'deferred', 'hold'].some((q) => hasFile(join('/var/spool/postfix', q)));
  }

  async seedMailboxes(users: readonly string[], count: number, message: Buffer): Promise<void> {
    for (const u of users) {
      const [local, domain] = u.split('@') as [string, string];
      const root = `/var/mail/vhosts/${domain}/${local}`;
      for (const sub of ['', '/cur', '/new', '/tmp']) {
        mkdirSync(root + sub, { recursive: true });
        chownSync(root + sub, VMAIL, VMAIL);
      }
      chownSync(`/var/mail/vhosts/${domain}`, VMAIL, VMAIL);
      for (let i = 0; i < count; i++) {
        const file = `${root}/new/${Date.now()}.seed${i}.bench`;
        writeFileSync(file, message);
        chownSync(file, VMAIL, VMAIL);
      }
    }
  }

  idleUser(i: number): string {
    return USERS[i % USERS.length]!;
  }

  memory(): Memory {
    return memoryOf(isAnchorProcess);
  }

  cpuSeconds(): number {
    return cpuOf(isAnchorProcess);
  }

  async stop(): Promise<void> {
    sh('postconf', ['-X', 'defer_transports']);
  }
}
