import { useState, type FormEvent } from 'react';
import { ApiError, api, type Me } from '../api';
import { problemText, useI18n } from '../i18n';

export function Login({ onLogin }: { onLogin(me: Me): void }) {
  const { t, lang } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [totp, setTotp] = useState<string>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await api<Me>('POST', '/session', { username, password, ...(totp !== undefined ? { totp } : {}) }));
    } catch (err) {
      // The password was right; the second factor comes next.
      if (err instanceof ApiError && err.problem.code === 'ERR_TOTP_REQUIRED') setTotp('');
      else setError(problemText(t, lang, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow">
      <h1>{t('loginTitle')}</h1>
      <p className="muted">{t('loginHint')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t('username')}
          <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {totp !== undefined && (
          <label>
            {t('totpLoginHint')}
            <input name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required autoFocus value={totp} onChange={(e) => setTotp(e.target.value)} />
          </label>
        )}
        <p role="alert" className="error">
          {error}
        </p>
        <button type="submit" disabled={busy}>
          {busy ? t('loggingIn') : t('logIn')}
        </button>
      </form>
    </section>
  );
}
