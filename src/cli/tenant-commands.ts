import { ACCOUNT_ROLES, generatePassword, hashPassword, type AccountRole, type DirectoryStore } from '../directory/index.js';
import { CliError, printTable, type Io } from './output.js';

export const TENANT_USAGE = `  tenant add NAME [--name "Display name"] | list | suspend NAME | resume NAME
         domain DOMAIN TENANT           (move a domain, with its accounts, to a tenant)
  operator add LOGIN [--password-stdin] | list | passwd LOGIN [--password-stdin] | remove LOGIN
  totp reset ADDRESS|operator:LOGIN     (turn off two-step login for someone who lost their phone)`;

/** A tenant key: lower-case letters, digits and dashes, as in a host name label. */
export function tenantName(text: string | undefined): string {
  if (!text) throw new CliError('missing tenant NAME', 2);
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(text)) {
    throw new CliError(`"${text}" is not a tenant name: use lower-case letters, digits and dashes (at most 63)`, 2);
  }
  return text;
}

export function accountRole(text: string | undefined): AccountRole | undefined {
  if (text === undefined) return undefined;
  if (!(ACCOUNT_ROLES as readonly string[]).includes(text)) throw new CliError(`--role must be one of ${ACCOUNT_ROLES.join(', ')}, got "${text}"`, 2);
  return text as AccountRole;
}

function operatorLogin(text: string | undefined): string {
  if (!text) throw new CliError('missing operator LOGIN', 2);
  // No @: a login with one is an account's, so the portal tells the two apart by it.
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(text)) throw new CliError(`"${text}" is not an operator login: lower-case letters, digits, dots, dashes and underscores, no @`, 2);
  return text;
}

async function newPassword(io: Io, fromStdin: boolean): Promise<{ value: string; generated: boolean }> {
  if (!fromStdin) return { value: generatePassword(), generated: true };
  const value = (await io.readStdin()).replace(/\r?\n$/, '');
  if (value.length < 12) throw new CliError('an operator password must have at least 12 characters');
  return { value, generated: false };
}

/** Runs `hikyaku tenant ...` and `hikyaku operator ...`. */
export async function runTenantCommand(
  store: DirectoryStore,
  group: string,
  action: string | undefined,
  args: string[],
  flags: { json: boolean; passwordStdin: boolean; name?: string },
  io: Io,
): Promise<void> {
  switch (`${group} ${action ?? ''}`) {
    case 'tenant add': {
      const name = tenantName(args[0]);
      const t = await store.addTenant(name, flags.name?.trim() || name);
      return io.out(`tenant ${t.name} (${t.displayName}) added; give it domains with "domain add DOMAIN --tenant ${t.name}"`);
    }
    case 'tenant list': {
      const domains = await store.listDomains();
      const rows = (await store.listTenants()).map((t) => ({ ...t, state: t.suspended ? 'suspended' : 'active', domains: domains.filter((d) => d.tenant === t.name).map((d) => d.name) }));
      return printTable(io, flags.json, rows, [['name', 'TENANT'], ['displayName', 'NAME'], ['state', 'STATE'], ['domains', 'DOMAINS']]);
    }
    case 'tenant suspend':
    case 'tenant resume': {
      const name = tenantName(args[0]);
      await store.setTenantSuspended(name, action === 'suspend');
      return io.out(action === 'suspend' ? `tenant ${name} suspended: its users cannot log in; mail for them is still accepted and delivered` : `tenant ${name} active again`);
    }
    case 'tenant domain': {
      if (!args[0] || !args[1]) throw new CliError('usage: hikyaku tenant domain DOMAIN TENANT', 2);
      await store.setDomainTenant(args[0].toLowerCase(), tenantName(args[1]));
      return io.out(`domain ${args[0]} now belongs to tenant ${args[1]}`);
    }
    case 'operator add': {
      const login = operatorLogin(args[0]);
      const pw = await newPassword(io, flags.passwordStdin);
      await store.addOperator(login, await hashPassword(pw.value));
      io.out(`operator ${login} added; they log in to the portal with this login name`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'operator passwd': {
      const login = operatorLogin(args[0]);
      const pw = await newPassword(io, flags.passwordStdin);
      await store.setOperatorPassword(login, await hashPassword(pw.value));
      io.out(`password of operator ${login} changed`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'operator list':
      return printTable(io, flags.json, (await store.listOperators()).map((o) => ({ login: o.login, createdAt: new Date(o.createdAt).toISOString() })), [['login', 'LOGIN'], ['createdAt', 'CREATED']]);
    case 'operator remove': {
      const login = operatorLogin(args[0]);
      await store.removeOperator(login);
      return io.out(`operator ${login} removed`);
    }
    default:
      throw new CliError(`unknown command "${group}${action ? ' ' + action : ''}"; commands:\n${TENANT_USAGE}`, 2);
  }
}

/** `hikyaku totp reset SUBJECT`: an operator turns off someone's second factor (they lost the phone). */
export async function runTotpCommand(store: { removeTotp(subject: string): Promise<boolean> }, action: string | undefined, args: string[], io: Io): Promise<void> {
  if (action !== 'reset' || !args[0]) throw new CliError(`usage: hikyaku totp reset ADDRESS|operator:LOGIN`, 2);
  const subject = args[0].startsWith('operator:') ? args[0] : args[0].toLowerCase();
  if (!(await store.removeTotp(subject))) throw new CliError(`${subject} has no two-step login`, 1);
  io.out(`two-step login of ${subject} turned off; they log in with the password alone and may turn it on again`);
}
