import { useState } from 'react';
import { ApiError, csrfToken, readProgress, type ImportPreview, type Problem } from '../api';
import { Table } from '../parts';
import { problemText, useI18n } from '../i18n';

type Progress = { done: number; total: number };

/** CSV export, and import with a preview of every row (errors first) before anything is written. */
export function AccountImport({ onImported }: { onImported(message: string): void }) {
  const { t, lang } = useI18n();
  const [file, setFile] = useState<File>();
  const [encoding, setEncoding] = useState('auto');
  const [preview, setPreview] = useState<ImportPreview>();
  const [progress, setProgress] = useState<Progress>();
  const [error, setError] = useState('');

  const send = (commit: boolean) =>
    fetch(`/api/v1/accounts/import?encoding=${encoding}${commit ? '&commit=true&skipErrors=true' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-csrf-token': csrfToken() },
      body: file,
      credentials: 'same-origin',
    });

  const check = async () => {
    setError('');
    setPreview(undefined);
    try {
      const res = await send(false);
      const body = await res.json();
      if (!res.ok) throw new ApiError(body as Problem);
      setPreview(body as ImportPreview);
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };

  const run = async () => {
    setError('');
    try {
      await readProgress<Progress & { result?: { added: number; updated: number; skipped: number }; problem?: Problem }>(await send(true), (msg) => {
        if (msg.result) {
          setPreview(undefined);
          onImported(t('imported', msg.result));
        } else setProgress({ done: msg.done, total: msg.total });
      });
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };

  // Every row with an error, then the first few good ones: the file's problems are what to read.
  const bad = preview?.rows.filter((r) => r.action === 'error') ?? [];
  const good = preview?.rows.filter((r) => r.action !== 'error') ?? [];
  const rows = [...bad, ...good.slice(0, 10)];
  return (
    <details className="card">
      <summary>{t('csvTitle')}</summary>
      <p>
        {t('csvExport')}: <a href="/api/v1/accounts/export?encoding=utf-8">UTF-8</a> · <a href="/api/v1/accounts/export?encoding=shift_jis">Shift_JIS</a>
      </p>
      <p className="muted">{t('csvHint')}</p>
      <div className="filters">
        <label>
          {t('csvFile')}
          <input type="file" name="csv" accept=".csv,text/csv" onChange={(e) => (setFile(e.target.files?.[0]), setPreview(undefined), setProgress(undefined))} />
        </label>
        <label>
          {t('csvEncoding')}
          <select name="encoding" value={encoding} onChange={(e) => setEncoding(e.target.value)}>
            <option value="auto">{t('csvAuto')}</option>
            <option value="utf-8">UTF-8</option>
            <option value="shift_jis">Shift_JIS</option>
          </select>
        </label>
        <button type="button" disabled={!file} onClick={() => void check()}>
          {t('csvPreview')}
        </button>
      </div>
      <p role="alert" className="error">
        {error}
      </p>
      {progress && (
        <p>
          <progress max={progress.total || 1} value={progress.done} aria-label={t('csvProgress')} /> {t('csvProgressText', progress)}
        </p>
      )}
      {preview && (
        <>
          <p role="status">{t('csvCounts', preview.counts)}</p>
          <button type="button" disabled={preview.counts.add + preview.counts.update === 0} onClick={() => void run()}>
            {t('csvImport', { n: preview.counts.add + preview.counts.update })}
          </button>
          <Table caption={t('csvPreview')} headers={[t('csvLine'), t('address'), t('name'), t('department'), t('csvResult')]}>
              {rows.map((r) => (
                <tr key={r.line} className={r.action === 'error' ? 'bad' : undefined}>
                  <td>{r.line}</td>
                  <td>{r.address}</td>
                  <td>{r.name}</td>
                  <td>{r.department}</td>
                  <td>{r.action === 'error' ? r.error : t(r.action === 'add' ? 'csvAdd' : 'csvUpdate')}</td>
                </tr>
              ))}
          </Table>
          {good.length > 10 && <p className="muted">{t('csvMore', { n: good.length - 10 })}</p>}
        </>
      )}
    </details>
  );
}
