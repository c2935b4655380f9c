import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { problemText, useI18n } from '../i18n';
import { Field, Table } from '../parts';

interface OwnRecord {
  id: number;
  name: string;
  type: string;
  ttl: number;
  value: string;
}

const TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV', 'CAA'];
const EMPTY = { name: '', type: 'A', ttl: '3600', value: '' };

/** The domain's own DNS records (served by Hikyaku's name servers beside the mail records), editable, and the whole zone as a zone file. */
export function ZoneRecords({ domain, onMessage, onError }: { domain: string; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [records, setRecords] = useState<OwnRecord[]>([]);
  const [zone, setZone] = useState('');
  const [form, setForm] = useState(EMPTY);
  const [editing, setEditing] = useState<number>();
  const path = `/domains/${enc(domain)}/zone/records`;
  const fail = (err: unknown) => onError(problemText(t, lang, err));

  const load = useCallback(async () => {
    const r = await api<{ records: OwnRecord[]; zone: string }>('GET', path);
    setRecords(r.records);
    setZone(r.zone);
  }, [path]);
  useEffect(() => {
    load().catch(fail);
  }, [load]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const body = { name: form.name, type: form.type, ttl: Number(form.ttl), value: form.value };
      await api(editing === undefined ? 'POST' : 'PUT', editing === undefined ? path : `${path}/${editing}`, body);
      setForm(EMPTY);
      setEditing(undefined);
      onError('');
      onMessage(t('saved'));
      await load();
    } catch (err) {
      fail(err);
    }
  };
  const remove = async (r: OwnRecord) => {
    if (!window.confirm(t('zoneDeleteConfirm', { record: `${r.name} ${r.type} ${r.value}` }))) return;
    try {
      await api('DELETE', `${path}/${r.id}`);
      onMessage(t('zoneDeleted'));
      await load();
    } catch (err) {
      fail(err);
    }
  };
  const set = (k: keyof typeof EMPTY) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  return (
    <>
      <h3>{t('zoneTitle')}</h3>
      <p className="muted">{t('zoneHint', { domain })}</p>
      {records.length > 0 && (
        <Table caption={t('zoneTitle')} headers={[t('dnsName'), t('zoneType'), 'TTL', t('zoneValue'), '']}>
          {records.map((r) => (
            <tr key={r.id}>
              <td>{r.name}</td>
              <td>{r.type}</td>
              <td>{r.ttl}</td>
              <td className="found">{r.value}</td>
              <td>
                <button type="button" onClick={() => (setEditing(r.id), setForm({ name: r.name, type: r.type, ttl: String(r.ttl), value: r.value }))}>
                  {t('edit')}
                </button>{' '}
                <button type="button" className="danger" onClick={() => void remove(r)}>
                  {t('remove')}
                </button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <form className="filters" onSubmit={(e) => void save(e)} aria-label={editing === undefined ? t('zoneAdd') : t('zoneChange')}>
        <Field label={t('dnsName')} name="record-name" value={form.name} onChange={set('name')} />
        <label>
          {t('zoneType')}
          <select name="record-type" value={form.type} onChange={(e) => set('type')(e.target.value)}>
            {TYPES.map((ty) => (
              <option key={ty}>{ty}</option>
            ))}
          </select>
        </label>
        <Field label="TTL" name="record-ttl" type="number" min="60" value={form.ttl} onChange={set('ttl')} />
        <Field label={t('zoneValue')} name="record-value" value={form.value} onChange={set('value')} />
        <button type="submit">{editing === undefined ? t('zoneAdd') : t('zoneChange')}</button>
        {editing !== undefined && (
          <button type="button" onClick={() => (setEditing(undefined), setForm(EMPTY))}>
            {t('cancel')}
          </button>
        )}
      </form>
      <details>
        <summary>{t('zoneFile')}</summary>
        <pre className="zone" aria-label={t('zoneFile')}>{zone}</pre>
        <a href={`/api/v1/domains/${enc(domain)}/zone`} download={`${domain}.zone`}>
          {t('zoneDownload')}
        </a>
      </details>
    </>
  );
}
