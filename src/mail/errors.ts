/**
 * The named errors of Hikyaku and their one mapping to protocol replies.
 * The client sees `text`; the cause goes to the log.
 */
/** How one error is shown: SMTP reply code and enhanced code (RFC 3463), HTTP status, the sentence. */
export interface ErrorSpec {
  readonly smtp?: readonly [number, string];
  readonly http: number;
  readonly text: string;
}

export const ERRORS = {
  ERR_RCPT_UNKNOWN: { smtp: [550, '5.1.1'], http: 404, text: 'No such user here' },
  ERR_RELAY_DENIED: { smtp: [554, '5.7.1'], http: 403, text: 'Relay access denied: we do not host this domain' },
  ERR_TOO_MANY_RCPTS: { smtp: [452, '4.5.3'], http: 400, text: 'Too many recipients' },
  ERR_MESSAGE_TOO_BIG: { smtp: [552, '5.3.4'], http: 413, text: 'Message size exceeds fixed maximum message size' },
  ERR_LINE_TOO_LONG: { smtp: [550, '5.6.0'], http: 400, text: 'Message has a line longer than the limit' },
  ERR_SESSION_TOO_LONG: { smtp: [421, '4.4.2'], http: 408, text: 'Session time limit exceeded, closing connection' },
  // Nothing is known about any address until the directory has loaded: never a 5xx then.
  ERR_DIRECTORY_UNAVAILABLE: { smtp: [451, '4.3.0'], http: 503, text: 'Address directory temporarily unavailable, please try again later' },
  // RFC 4954 §6: 454 4.7.0 for a temporary failure of the authentication mechanism.
  ERR_AUTH_UNAVAILABLE: { smtp: [454, '4.7.0'], http: 503, text: 'Temporary authentication failure, please try again later' },
  ERR_SPOOL_UNAVAILABLE: { smtp: [451, '4.3.0'], http: 503, text: 'Temporary local problem, please try again later' },
  // RFC 5321 §6.3 and RFC 3463: 5.4.6 routing loop detected.
  ERR_MAIL_LOOP: { smtp: [554, '5.4.6'], http: 400, text: 'Too many hops, the message is in a mail loop' },
  ERR_SPOOL_FULL: { smtp: [452, '4.3.1'], http: 507, text: 'Insufficient system storage, please try again later' },
  ERR_SHUTTING_DOWN: { smtp: [421, '4.3.2'], http: 503, text: 'Service shutting down, please try again later' },
  ERR_PARAM_UNKNOWN: { smtp: [555, '5.5.4'], http: 400, text: 'Parameter not recognized or not implemented' },
  ERR_UTF8_REQUIRED: { smtp: [553, '5.6.7'], http: 400, text: 'Non-ASCII address needs the SMTPUTF8 parameter (RFC 6531)' },
  ERR_AUTH_REQUIRED: { smtp: [530, '5.7.0'], http: 401, text: 'Authentication required' },
  // RFC 3207 §4: AUTH before STARTTLS where plaintext logins are not allowed.
  ERR_TLS_REQUIRED: { smtp: [530, '5.7.0'], http: 403, text: 'Must issue a STARTTLS command first' },
  // RFC 4954 §6: 535 5.7.8 for wrong credentials.
  ERR_AUTH_FAILED: { smtp: [535, '5.7.8'], http: 401, text: 'Authentication credentials invalid' },
  ERR_ACCOUNT_DISABLED: { smtp: [535, '5.7.8'], http: 403, text: 'This account is disabled; ask your administrator' },
  // The password was right, but the account's policy refuses this protocol or network: still a refused login (535 5.7.8), with the reason.
  ERR_LOGIN_NOT_ALLOWED: { smtp: [535, '5.7.8'], http: 403, text: 'Login not allowed' },
  ERR_AUTH_RATE_LIMITED: { smtp: [454, '4.7.0'], http: 429, text: 'Too many failed logins, try again later' },
  ERR_SENDER_NOT_OWNED: { smtp: [553, '5.7.1'], http: 403, text: 'Sender address rejected: you may send only as your own address or an alias of yours' },
  // As large providers answer it: the user learns the limit now, the MUA does not retry blindly.
  ERR_SEND_RATE: { smtp: [550, '5.4.5'], http: 429, text: 'Hourly sending limit reached, try again later' },
  ERR_BAD_ADDRESS: { smtp: [501, '5.1.3'], http: 400, text: 'Bad address syntax' },
  ERR_STORE_TIMEOUT: { smtp: [451, '4.3.0'], http: 503, text: 'The mailbox store did not answer in time' },
  ERR_STORE_FAILED: { smtp: [451, '4.3.0'], http: 503, text: 'The mailbox store failed' },
  ERR_QUOTA_EXCEEDED: { smtp: [452, '4.2.2'], http: 507, text: 'Mailbox is over quota' },
  ERR_QUEUE_LEASE_LOST: { smtp: [451, '4.3.0'], http: 409, text: 'Queue lease lost' },
  ERR_DOMAIN_EXISTS: { http: 409, text: 'The domain is already hosted' },
  ERR_DOMAIN_UNKNOWN: { http: 404, text: 'The domain is not hosted here' },
  ERR_DOMAIN_NOT_EMPTY: { http: 409, text: 'The domain still has accounts or aliases' },
  ERR_ADDRESS_TAKEN: { http: 409, text: 'The address is already in use' },
  ERR_ACCOUNT_UNKNOWN: { http: 404, text: 'No such account' },
  ERR_ALIAS_UNKNOWN: { http: 404, text: 'No such alias' },
  ERR_TENANT_EXISTS: { http: 409, text: 'A tenant with this name exists already' },
  ERR_TENANT_UNKNOWN: { http: 404, text: 'No such tenant' },
  ERR_OPERATOR_EXISTS: { http: 409, text: 'An operator with this login exists already' },
  ERR_OPERATOR_UNKNOWN: { http: 404, text: 'No such operator' },
  ERR_FOLDER_UNKNOWN: { http: 404, text: 'No such folder' },
  ERR_FOLDER_EXISTS: { http: 409, text: 'A folder with this name exists already' },
  ERR_FOLDER_NAME: { http: 400, text: 'Invalid folder name' },
  // RFC 9051 §6.3.5: INBOX can never be deleted.
  ERR_FOLDER_INBOX: { http: 409, text: 'INBOX cannot be deleted or renamed onto' },
  // RFC 9051 §6.3.5: a folder with subfolders and the \Noselect attribute may not be deleted; we refuse a folder with children.
  ERR_FOLDER_HAS_CHILDREN: { http: 409, text: 'The folder has subfolders; delete them first' },
  ERR_SITE_PATH: { http: 400, text: 'Not a file name a website can have' },
  ERR_SITE_QUOTA: { http: 507, text: 'The website would be larger than its quota' },
  ERR_SITE_ARCHIVE: { http: 400, text: 'The archive cannot be used as a website' },
  ERR_SITE_FILE_UNKNOWN: { http: 404, text: 'The website has no such file' },
  ERR_DNS_RECORD_UNKNOWN: { http: 404, text: 'The domain has no DNS record with this id' },
  ERR_DKIM_SELECTOR_TAKEN: { http: 409, text: 'The domain already has a DKIM key with this selector' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class HikyakuError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(detail ? `${ERRORS[code].text}: ${detail}` : ERRORS[code].text, options);
    this.name = code;
  }

  /** True for conditions that may go away by themselves (retry later). */
  get temporary(): boolean {
    const entry: ErrorSpec = ERRORS[this.code];
    return entry.smtp !== undefined && entry.smtp[0] < 500;
  }

  /** The SMTP reply for this error: code, enhanced code (RFC 3463), and text. */
  get smtpReply(): { code: number; enhanced: string; text: string } {
    const entry: ErrorSpec = ERRORS[this.code];
    const [code, enhanced] = entry.smtp ?? [451, '4.3.0'];
    return { code, enhanced, text: this.message };
  }
}
