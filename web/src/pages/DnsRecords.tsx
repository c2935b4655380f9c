import { useEffect, useState } from 'react';
import { api, enc } from '../api';
import { problemText, useI18n, type Key } from '../i18n';
import { Table } from '../parts';

interface DnsRecord {
  name: string;
  type: string;
  value: string;
  purpose: 'mx' | 'spf' | 'dkim' | 'dmarc';
  selector?: string;
  active?: boolean;
  zoneLine: string;
  state?: 'ok' | 'missing' | 'different' | 'error';
  found?: string[];
  error?: string;
}

/** A domain's records to publish, a live check of what its DNS says now, and DKIM key rotation. */
export function DnsRecords({ domain, onMessage, onError }: { domain: string; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [zone, setZone] = useState('');
  const [checked, setChecked] = useState<DnsRecord[]>();
  const [busy, setBusy] = useState(false);
  const [algorithm, setAlgorithm] = useState('rsa');
  const path = `/domains/${enc(domain)}`;
  const fail = (err: unknown) => onError(problemText(t, lang, err));

  useEffect(() => {
    api<{ zone: string }>('GET', `${path}/dns`).then((r) => setZone(r.zone), fail);
  }, [path]);

  const check = async () => {
    setBusy(true);
    try {
      setChecked((await api<{ records: DnsRecord[] }>('GET', `${path}/dns/check`)).records);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const rotate = async () => {
    if (!window.confirm(t('dkimConfirm', { domain }))) return;
    try {
      const r = await api<{ selector: string; zone: string }>('POST', `${path}/dkim/rotate`, { algorithm });
      setZone(r.zone);
      setChecked(undefined);
      onMessage(t('dkimRotated', { selector: r.selector }));
    } catch (err) {
      fail(err);
    }
  };

  return (
    <>
      <h3>{t('dnsTitle')}</h3>
      <p className="muted">{t('dnsHint')}</p>
      <pre className="zone" aria-label={t('dnsTitle')}>{zone}</pre>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => void check()}>
          {busy ? t('dnsChecking') : t('dnsCheck')}
        </button>
        <label className="check">
          {t('dkimAlgorithm')}
          <select value={algorithm} onChange={(e) => setAlgorithm(e.target.value)}>
            <option value="rsa">RSA 2048</option>
            <option value="ed25519">Ed25519</option>
          </select>
        </label>
        <button type="button" className="danger" onClick={() => void rotate()}>
          {t('dkimRotate')}
        </button>
      </div>
      {checked && (
        <Table caption={t('dnsCheck')} headers={[t('dnsName'), t('dnsPurpose'), t('state'), t('dnsFound')]}>
          {checked.map((r) => (
            <tr key={`${r.name} ${r.type}`} className={r.state === 'ok' ? undefined : 'bad'}>
              <td>
                {r.name} {r.type}
              </td>
              <td>{r.purpose.toUpperCase()}{r.selector ? ` (${r.selector}${r.active ? '' : `, ${t('dkimRetired')}`})` : ''}</td>
              <td>{t(`dns_${r.state}` as Key)}</td>
              <td className="found">{r.error ?? (r.found ?? []).join(' | ')}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
