import { AddressError, HikyakuError, domainOf, normalizeAddress, parseDomain } from '../mail/index.js';
import { dnsRecords, generateDkimKey, generatePassword, hashPassword, newSelector, type DkimAlgorithm, type DirectoryStore } from '../directory/index.js';
import { CliError, formatSize, parseSize, printTable, type Io } from './output.js';
import { accountRole, tenantName } from './tenant-commands.js';

export interface Flags {
  readonly json: boolean;
  readonly force: boolean;
  readonly passwordStdin: boolean;
  readonly keepCopy: boolean;
  readonly quota?: string;
  readonly dkim?: string;
  readonly tenant?: string;
  readonly role?: string;
  readonly name?: string;
  /** The host name mail for hosted domains is sent to and from (config `hostname`). */
  readonly mailHost: string;
}

export const DIRECTORY_USAGE = `  domain add NAME [--tenant T] [--dkim rsa|ed25519] | list | remove NAME [--force]
         dns NAME | dkim-rotate NAME [--dkim rsa|ed25519]
  account add ADDRESS [--password-stdin] [--quota SIZE] [--role user|domain-admin|tenant-admin]
              [--name "Full Name"] | list [DOMAIN]
          passwd ADDRESS [--password-stdin] | quota ADDRESS SIZE | remove ADDRESS
          role ADDRESS user|domain-admin|tenant-admin | disable ADDRESS | enable ADDRESS
  alias add ADDRESS|@DOMAIN TARGET... | list [DOMAIN] | remove ADDRESS [TARGET...]
  forward set ACCOUNT TARGET... [--keep-copy] | list [DOMAIN] | remove ACCOUNT`;

function address(text: string | undefined, what = 'ADDRESS'): string {
  if (!text) throw new CliError(`missing ${what}`, 2);
  try {
    return normalizeAddress(text);
  } catch (err) {
    if (err instanceof AddressError) throw new CliError(err.message, 2);
    throw err;
  }
}

function domain(text: string | undefined): string {
  if (!text) throw new CliError('missing domain NAME', 2);
  try {
    return parseDomain(text);
  } catch (err) {
    if (err instanceof AddressError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** An alias key: an address, or `@domain` for a catch-all. */
function aliasKey(text: string | undefined): string {
  if (text?.startsWith('@')) return '@' + domain(text.slice(1));
  return address(text);
}

/** Targets: hosted addresses are delivered here, others are relayed (with SRS). */
function targets(list: string[]): string[] {
  if (list.length === 0) throw new CliError('give at least one TARGET address', 2);
  return [...new Set(list.map((t) => address(t, 'TARGET')))];
}

function dkimAlgorithm(flags: Flags): DkimAlgorithm {
  const a = (flags.dkim ?? 'rsa').toLowerCase();
  if (a === 'rsa') return 'rsa-sha256';
  if (a === 'ed25519') return 'ed25519-sha256';
  throw new CliError(`--dkim must be rsa or ed25519, got "${flags.dkim}"`, 2);
}

async function password(io: Io, flags: Flags): Promise<{ value: string; generated: boolean }> {
  if (!flags.passwordStdin) return { value: generatePassword(), generated: true };
  const value = (await io.readStdin()).replace(/\r?\n$/, '');
  if (value.length < 8) throw new CliError('the password must have at least 8 characters');
  return { value, generated: false };
}

/** Runs `hikyaku <group> <action> ...` for domains, accounts, aliases and forwards. */
export async function runDirectoryCommand(store: DirectoryStore, group: string, action: string | undefined, args: string[], flags: Flags, io: Io): Promise<void> {
  switch (`${group} ${action ?? ''}`) {
    case 'domain add': {
      const key = generateDkimKey(dkimAlgorithm(flags), newSelector([]));
      const d = await store.addDomain(domain(args[0]), key, flags.tenant === undefined ? undefined : tenantName(flags.tenant));
      io.out(`domain ${d.name} added to tenant ${d.tenant}, DKIM selector ${key.selector}; publish these DNS records:`);
      for (const line of dnsRecords(d.name, flags.mailHost, await store.listDkimKeys(d.name))) io.out(line);
      return;
    }
    case 'domain dns': {
      const name = domain(args[0]);
      for (const line of dnsRecords(name, flags.mailHost, await store.listDkimKeys(name))) io.out(line);
      return;
    }
    case 'domain dkim-rotate': {
      const name = domain(args[0]);
      const selector = newSelector((await store.listDkimKeys(name)).map((k) => k.selector));
      await store.addDkimKey(name, generateDkimKey(dkimAlgorithm(flags), selector));
      io.out(`domain ${name} now signs with selector ${selector}; publish its record before mail goes out, and keep the old one for a week:`);
      for (const line of dnsRecords(name, flags.mailHost, await store.listDkimKeys(name))) io.out(line);
      return;
    }
    case 'domain list':
      return printTable(io, flags.json, await store.listDomains(), [['name', 'DOMAIN'], ['tenant', 'TENANT']]);
    case 'domain remove':
      await store.removeDomain(domain(args[0]), flags.force);
      return io.out(`domain ${args[0]} removed`);

    case 'account add': {
      const addr = address(args[0]);
      const quotaBytes = flags.quota ? parseSize(flags.quota) : 0;
      const pw = await password(io, flags);
      const role = accountRole(flags.role) ?? 'user';
      await store.addAccount({ address: addr, passwordHash: await hashPassword(pw.value), quotaBytes, role, name: flags.name?.trim() });
      io.out(`account ${addr} added (quota ${formatSize(quotaBytes)}${role === 'user' ? '' : `, ${role}`})`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'account list': {
      const rows = await store.listAccounts(args[0] ? domain(args[0]) : undefined);
      return printTable(
        io,
        flags.json,
        rows.map((a) => ({
          address: a.address,
          domain: a.domain,
          name: a.name,
          role: a.role,
          state: a.disabled ? 'disabled' : 'active',
          quotaBytes: a.quotaBytes,
          quota: formatSize(a.quotaBytes),
          createdAt: new Date(a.createdAt).toISOString(),
        })),
        [['address', 'ADDRESS'], ['name', 'NAME'], ['role', 'ROLE'], ['state', 'STATE'], ['quota', 'QUOTA'], ['createdAt', 'CREATED']],
      );
    }
    case 'account passwd': {
      const addr = address(args[0]);
      const pw = await password(io, flags);
      await store.setPassword(addr, await hashPassword(pw.value));
      io.out(`password of ${addr} changed`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'account quota': {
      const addr = address(args[0]);
      if (!args[1]) throw new CliError('missing SIZE (e.g. 2G, or 0 for no limit)', 2);
      const bytes = parseSize(args[1]);
      await store.setQuota(addr, bytes);
      return io.out(`quota of ${addr} set to ${formatSize(bytes)}`);
    }
    case 'account role': {
      const addr = address(args[0]);
      const role = accountRole(args[1]);
      if (!role) throw new CliError('missing ROLE: user, domain-admin or tenant-admin', 2);
      await store.updateAccount(addr, { role });
      return io.out(`${addr} is now ${role === 'user' ? 'a user' : `a ${role}`}`);
    }
    case 'account disable':
    case 'account enable': {
      const addr = address(args[0]);
      await store.updateAccount(addr, { disabled: action === 'disable' });
      return io.out(action === 'disable' ? `account ${addr} disabled: it cannot log in; its mail is still delivered` : `account ${addr} enabled`);
    }
    case 'account remove': {
      const addr = address(args[0]);
      await store.removeAccount(addr);
      return io.out(`account ${addr} removed (its stored mail is kept)`);
    }

    case 'alias add': {
      const key = aliasKey(args[0]);
      const existing = (await store.listAliases(domainOf(key))).find((a) => a.address === key);
      const merged = [...new Set([...(existing?.targets ?? []), ...targets(args.slice(1))])];
      const a = await store.setAlias(key, merged);
      return io.out(`alias ${a.address} → ${a.targets.join(', ')}`);
    }
    case 'alias list': {
      const rows = await store.listAliases(args[0] ? domain(args[0]) : undefined);
      return printTable(io, flags.json, rows.map((a) => ({ ...a, catchAll: a.address.startsWith('@') })), [['address', 'ALIAS'], ['targets', 'TARGETS']]);
    }
    case 'alias remove': {
      const key = aliasKey(args[0]);
      const drop = args.slice(1).map((t) => address(t, 'TARGET'));
      const existing = (await store.listAliases(domainOf(key))).find((a) => a.address === key);
      if (!existing) throw new HikyakuError('ERR_ALIAS_UNKNOWN', key);
      const left = existing.targets.filter((t) => !drop.includes(t));
      if (drop.length === 0 || left.length === 0) {
        await store.removeAlias(key);
        return io.out(`alias ${key} removed`);
      }
      await store.setAlias(key, left);
      return io.out(`alias ${key} → ${left.join(', ')}`);
    }

    case 'forward set': {
      const acct = address(args[0], 'ACCOUNT');
      const f = await store.setForward(acct, targets(args.slice(1)), flags.keepCopy);
      return io.out(`mail to ${f.account} is forwarded to ${f.targets.join(', ')}${f.keepCopy ? ', keeping a copy' : ''}`);
    }
    case 'forward list': {
      const rows = await store.listForwards(args[0] ? domain(args[0]) : undefined);
      return printTable(io, flags.json, rows.map((f) => ({ ...f })), [['account', 'ACCOUNT'], ['targets', 'FORWARDED TO'], ['keepCopy', 'KEEPS COPY']]);
    }
    case 'forward remove': {
      const acct = address(args[0], 'ACCOUNT');
      await store.removeForward(acct);
      return io.out(`forwarding of ${acct} removed`);
    }
    default:
      throw new CliError(`unknown command "${group}${action ? ' ' + action : ''}"; commands:\n${DIRECTORY_USAGE}`, 2);
  }
}
