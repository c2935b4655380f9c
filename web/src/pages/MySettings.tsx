import { useEffect, useState, type FormEvent } from 'react';
import { api, type Account } from '../api';
import { Messages } from '../parts';
import { formatBytes, problemText, useI18n } from '../i18n';
import { ForwardForm } from './ForwardForm';
import { AutoReplyForm } from './AutoReplyForm';

/** The user's own menu: usage against quota, password, forwarding. */
export function MySettings() {
  const { t, lang } = useI18n();
  const [me, setMe] = useState<Account>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  useEffect(() => {
    api<Account>('GET', '/me').then(setMe, (err: unknown) => setError(problemText(t, lang, err)));
  }, [t, lang]);

  return (
    <section>
      <h1>{t('meTitle')}</h1>
      <Messages notice={notice} error={error} />
      {me && (
        <>
          {me.waiting && me.waiting.count > 0 && (
            <p className="warning" role="status">
              {t('mailWaiting', { n: me.waiting.count, minutes: Math.max(1, Math.round(me.waiting.oldestSeconds / 60)) })}
            </p>
          )}
          <section className="card">
            <h2>{t('myUsage')}</h2>
            <p>{me.address}</p>
            {me.usage ? (
              <>
                <p>{t('usageOf', { used: formatBytes(me.usage.bytes), quota: me.quotaBytes ? formatBytes(me.quotaBytes) : t('unlimited'), messages: me.usage.messages })}</p>
                {me.quotaBytes > 0 && <progress max={me.quotaBytes} value={me.usage.bytes} aria-label={t('usage')} />}
              </>
            ) : (
              <p className="warning">{t('unavailable')}</p>
            )}
          </section>
          <section className="card">
            <h2>{t('changePassword')}</h2>
            {me.policy?.changePassword === false ? <p className="muted">{t('notPermitted')}</p> : <PasswordForm onDone={() => setNotice(t('passwordChanged'))} />}
          </section>
          <section className="card">
            <h2>{t('forwarding')}</h2>
            <ForwardForm path="/me/forward" initial={me.forward ?? null} onMessage={setNotice} onError={setError} />
          </section>
          <section className="card">
            <h2>{t('appleProfile')}</h2>
            <p>{t('appleProfileHelp')}</p>
            <a className="button" href="/api/v1/me/apple-profile" download>
              {t('appleProfileDownload')}
            </a>
          </section>
          <section className="card">
            <h2>{t('autoReply')}</h2>
            {me.policy?.autoReply === false ? <p className="muted">{t('notPermitted')}</p> : <AutoReplyForm path="/me/autoreply" onMessage={setNotice} onError={setError} />}
          </section>
        </>
      )}
    </section>
  );
}

export function PasswordForm({ onDone }: { onDone(): void }) {
  const { t, lang } = useI18n();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    if (password !== repeat) return setError(t('passwordsDiffer'));
    try {
      await api('PUT', '/me/password', { current, password });
      setCurrent('');
      setPassword('');
      setRepeat('');
      onDone();
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };
  return (
    <form className="grid" onSubmit={(e) => void submit(e)} aria-label={t('changePassword')}>
      <label>
        {t('currentPassword')}
        <input name="current" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        {t('newPassword')}
        <input name="new" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <label>
        {t('repeatPassword')}
        <input name="repeat" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </label>
      <p role="alert" className="error wide">
        {error}
      </p>
      <button type="submit">{t('changePassword')}</button>
    </form>
  );
}
