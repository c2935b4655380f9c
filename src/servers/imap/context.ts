import type { AccountRecord } from '../../directory/index.js';
import type { MailStore } from '../../mailstore/index.js';
import type { Chunk } from '../../imap/index.js';
import type { Logger } from '../../observability/index.js';
import type { PlaintextLogin } from '../plaintext.js';
import type { MessageCache } from './message-cache.js';
import type { SelectedMailbox } from './selected.js';

export interface ImapOptions {
  readonly hostname: string;
  /** RFC 9051 §5.4: at least 30 minutes of inactivity before an autologout. */
  readonly idleTimeoutSeconds: number;
  readonly maxUnauthenticatedCommands: number;
  /** Deadline for each mailbox store call; past it the client gets NO [UNAVAILABLE]. */
  readonly storeTimeoutMs: number;
  readonly plaintextLogin: PlaintextLogin;
  readonly maxClients: number;
  /** Largest message APPEND takes (APPENDLIMIT, RFC 7889) and largest literal. */
  readonly maxMessageBytes: number;
  /** Longest command line, literals not counted. */
  readonly maxLineBytes: number;
}

/** What command handlers see of their session (authenticated state or later). */
export interface ImapContext {
  readonly account: AccountRecord;
  readonly options: ImapOptions;
  readonly log: Logger;
  readonly cache: MessageCache;
  /** The client reads UTF-8 mailbox names and strings (IMAP4rev2 or UTF8=ACCEPT enabled). */
  readonly utf8: boolean;
  /** IMAP4rev2 enabled (RFC 9051): no \\Recent, SEARCH answers with ESEARCH. */
  readonly rev2: boolean;
  readonly condstore: boolean;
  readonly qresync: boolean;
  /** RFC 7162 §3.1: commands using CONDSTORE features enable it. */
  enableCondstore(): void;
  selected: SelectedMailbox | undefined;
  /** Sends an untagged response (the "* " is the caller's). */
  untagged(chunks: readonly Chunk[]): Promise<void>;
  /** Sends chunks as they are (complete responses with their CRLFs). */
  write(chunks: readonly Chunk[]): Promise<void>;
  /** A mailbox store call under the store deadline; a late or failed call throws. */
  call<T>(work: (store: MailStore) => Promise<T>): Promise<T>;
  /** Brings the selected mailbox's view up to date with the store and tells the client. */
  sync(expunges: boolean): Promise<void>;
}
