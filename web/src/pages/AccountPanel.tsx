import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, enc, type Account, type Me } from '../api';
import { Messages, Field } from '../parts';
import { formatBytes, problemText, useI18n, type Key } from '../i18n';
import { ForwardForm } from './ForwardForm';
import { AutoReplyForm } from './AutoReplyForm';
import { PolicyForm } from './PolicyForm';

const ROLES = ['user', 'domain-admin', 'tenant-admin'] as const;

/** One account, as its administrator edits it: profile, state, password, forwarding, mailbox. */
export function AccountPanel({ address, me, onClose }: { address: string; me: Me; onClose(message?: string): void }) {
  const { t, lang } = useI18n();
  const [account, setAccount] = useState<Account>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const path = `/accounts/${enc(address)}`;

  useEffect(() => {
    api<Account>('GET', path).then(setAccount, (err: unknown) => setError(problemText(t, lang, err)));
  }, [path, t, lang]);
  useEffect(() => heading.current?.focus(), [account]);

  const act = async (work: () => Promise<string | undefined>) => {
    setError('');
    setNotice('');
    try {
      const msg = await work();
      if (msg) setNotice(msg);
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };

  const roles = ROLES.filter((r) => r !== 'tenant-admin' || me.kind === 'operator' || me.role === 'tenant-admin');

  return (
    <div className="overlay" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <section className="card dialog" role="dialog" aria-modal="true" aria-labelledby="panel-title">
        <h2 id="panel-title" tabIndex={-1} ref={heading}>
          {address}
        </h2>
        <Messages notice={notice} error={error} />
        {account && (
          <>
            <p className="muted">
              {t('usage')}: {account.usage ? `${formatBytes(account.usage.bytes)} (${account.usage.messages})` : t('unavailable')}
            </p>
            <Profile account={account} roles={roles} onSave={(patch) => act(async () => (setAccount({ ...account, ...(await api<Account>('PATCH', path, patch)) }), t('saved')))} />
            <ResetPassword onReset={(body) => act(async () => {
              const res = await api<{ password?: string }>('POST', `${path}/password`, body);
              return res.password ? t('generatedPassword', { password: res.password }) : t('passwordReset');
            })} />
            <h3>{t('forwarding')}</h3>
            <ForwardForm path={`${path}/forward`} initial={account.forward ?? null} onMessage={setNotice} onError={setError} />
            <h3>{t('autoReply')}</h3>
            <AutoReplyForm path={`${path}/autoreply`} onMessage={setNotice} onError={setError} />
            <h3>{t('permissions')}</h3>
            <PolicyForm path={`${path}/policy`} account onMessage={setNotice} onError={setError} />
            <div className="row">
              <button
                type="button"
                className="danger"
                onClick={() => window.confirm(t('confirmEmpty', { address })) && void act(async () => t('emptied', { n: (await api<{ removed: number }>('POST', `${path}/empty`)).removed }))}
              >
                {t('emptyMailbox')}
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => window.confirm(t('confirmRemove', { address })) && void act(async () => (await api('DELETE', path), onClose(t('accountRemoved', { address })), undefined))}
              >
                {t('remove')}
              </button>
            </div>
          </>
        )}
        <div className="row end">
          <button type="button" onClick={() => onClose()}>
            {t('close')}
          </button>
        </div>
      </section>
    </div>
  );
}

function Profile({ account, roles, onSave }: { account: Account; roles: readonly string[]; onSave(patch: Partial<Account> & { disabled: boolean }): void }) {
  const { t } = useI18n();
  const [name, setName] = useState(account.name);
  const [department, setDepartment] = useState(account.department);
  const [quotaMb, setQuotaMb] = useState(String(Math.round(account.quotaBytes / 1024 / 1024)));
  const [role, setRole] = useState<string>(account.role);
  const [disabled, setDisabled] = useState(account.state === 'disabled');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave({ name, department, quotaBytes: Math.round(Number(quotaMb || '0') * 1024 * 1024), ...(role !== account.role ? { role: role as Account['role'] } : {}), disabled });
  };
  return (
    <form className="grid" onSubmit={submit} aria-label={t('edit')}>
      <Field label={t('name')} name="name" value={name} onChange={setName} />
      <Field label={t('department')} name="department" value={department} onChange={setDepartment} />
      <Field label={t('quotaMb')} name="quota" type="number" min="0" value={quotaMb} onChange={setQuotaMb} />
      <label>
        {t('role')}
        <select name="role" value={role} onChange={(e) => setRole(e.target.value)}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {t(`role_${r}` as Key)}
            </option>
          ))}
        </select>
      </label>
      <label className="check wide">
        <input type="checkbox" name="disabled" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} />
        {t('disableAccount')}
      </label>
      <button type="submit">{t('save')}</button>
    </form>
  );
}

function ResetPassword({ onReset }: { onReset(body: { password?: string; mustChangePassword: boolean }): void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [mustChange, setMustChange] = useState(true);
  return (
    <form
      className="grid"
      aria-label={t('resetPassword')}
      onSubmit={(e) => {
        e.preventDefault();
        onReset({ ...(password ? { password } : {}), mustChangePassword: mustChange });
        setPassword('');
      }}
    >
      <h3 className="wide">{t('resetPassword')}</h3>
      <label>
        {t('newPasswordOptional')}
        <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <label className="check">
        <input type="checkbox" checked={mustChange} onChange={(e) => setMustChange(e.target.checked)} />
        {t('mustChange')}
      </label>
      <button type="submit">{t('resetPassword')}</button>
    </form>
  );
}
