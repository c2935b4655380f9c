import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { problemText, useI18n } from '../i18n';
import { Messages } from '../parts';

/** Two-step login (TOTP) for administrators and operators: turn it on with a QR code, off with a code. */
export function Security() {
  const { t, lang } = useI18n();
  const [enabled, setEnabled] = useState<boolean>();
  const [pending, setPending] = useState<{ secret: string; qr: string }>();
  const [code, setCode] = useState('');
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const fail = (err: unknown) => setError(problemText(t, lang, err));

  useEffect(() => {
    api<{ enabled: boolean }>('GET', '/me/totp').then((r) => setEnabled(r.enabled), fail);
    // Loaded once; the language does not change what is set.
  }, []);

  const start = async () => {
    setError('');
    try {
      setPending(await api<{ secret: string; qr: string }>('POST', '/me/totp'));
    } catch (err) {
      fail(err);
    }
  };
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      await api('POST', '/me/totp/confirm', { code });
      setPending(undefined);
      setEnabled(true);
      setCode('');
      setNotice(t('totpOn'));
    } catch (err) {
      fail(err);
    }
  };
  const off = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      await api('DELETE', '/me/totp', { code });
      setEnabled(false);
      setCode('');
      setNotice(t('totpOff'));
    } catch (err) {
      fail(err);
    }
  };

  const codeInput = (
    <label>
      {t('totpCode')}
      <input name="totp-code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required value={code} onChange={(e) => setCode(e.target.value)} />
    </label>
  );
  return (
    <section>
      <h1>{t('securityTitle')}</h1>
      <Messages notice={notice} error={error} />
      <section className="card">
        <h2>{t('totpTitle')}</h2>
        <p className="muted">{t('totpHint')}</p>
        {enabled === false && !pending && (
          <button type="button" onClick={() => void start()}>
            {t('totpStart')}
          </button>
        )}
        {pending && (
          <form className="grid" onSubmit={(e) => void confirm(e)} aria-label={t('totpTitle')}>
            <p className="wide">{t('totpScan')}</p>
            <img className="qr" src={pending.qr} alt={t('totpQr')} width={200} height={200} />
            <p className="wide">
              {t('totpManual')} <code className="secret">{pending.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
            </p>
            {codeInput}
            <button type="submit">{t('totpConfirm')}</button>
          </form>
        )}
        {enabled && (
          <form className="grid" onSubmit={(e) => void off(e)} aria-label={t('totpTitle')}>
            <p className="wide notice">{t('totpIsOn')}</p>
            {codeInput}
            <button type="submit" className="danger">
              {t('totpTurnOff')}
            </button>
          </form>
        )}
      </section>
    </section>
  );
}
