import { useState, type FormEvent } from 'react';
import { api, type Me } from '../api';
import { problemText, useI18n } from '../i18n';

export function Login({ onLogin }: { onLogin(me: Me): void }) {
  const { t, lang } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await api<Me>('POST', '/session', { username, password }));
    } catch (err) {
      setError(problemText(t, lang, err));
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
