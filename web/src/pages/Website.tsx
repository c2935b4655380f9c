import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, enc, upload } from '../api';
import { problemText, useI18n } from '../i18n';
import { Field, Table } from '../parts';

interface SiteFile {
  path: string;
  size: number;
  modifiedAt: number;
}
interface Site {
  files: SiteFile[];
  usedBytes: number;
  quotaBytes: number;
  sftp: { user: string; port: number; enabled: boolean };
}

const size = (n: number) => (n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const path = (folder: string, name: string) => [folder.trim().replace(/^\/+|\/+$/g, ''), name].filter(Boolean).join('/');

/** The domain's website: its files and the space they use, uploads (files or a ZIP of the whole site), and the SFTP login. */
export function Website({ domain, onMessage, onError }: { domain: string; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [site, setSite] = useState<Site>();
  const [folder, setFolder] = useState('');
  const [password, setPassword] = useState('');
  const base = `/domains/${enc(domain)}/site`;
  const fail = (err: unknown) => onError(problemText(t, lang, err));

  const load = useCallback(async () => setSite(await api<Site>('GET', base)), [base]);
  useEffect(() => {
    load().catch(fail);
  }, [load]);

  const run = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      onError('');
      onMessage(done);
      await load();
    } catch (err) {
      fail(err);
    }
  };
  const uploadFiles = (list: FileList | null) =>
    list && run(async () => {
      for (const f of Array.from(list)) await upload('PUT', `${base}/files/${path(folder, f.name).split('/').map(enc).join('/')}`, f);
    }, t('siteUploaded', { n: list.length }));
  const uploadZip = (list: FileList | null) => {
    const zip = list?.[0];
    if (!zip || !window.confirm(t('siteZipConfirm', { domain }))) return;
    void run(() => upload('PUT', base, zip, 'application/zip'), t('siteReplaced'));
  };
  const setSftp = (e: FormEvent) => {
    e.preventDefault();
    void run(() => api('PUT', `${base}/sftp-password`, { password }), t('siteSftpOn')).then(() => setPassword(''));
  };

  return (
    <>
      <h3>{t('siteTitle')}</h3>
      {site && (
        <>
          <p className="muted">
            {t('siteUsage', { used: size(site.usedBytes), quota: site.quotaBytes ? size(site.quotaBytes) : '∞', n: site.files.length })}{' '}
            <a href={`http://${domain}/`} target="_blank" rel="noreferrer">
              {domain}
            </a>
          </p>
          {site.quotaBytes > 0 && <progress max={site.quotaBytes} value={site.usedBytes} aria-label={t('siteTitle')} />}
          {site.files.length > 0 && (
            <Table caption={t('siteFiles')} headers={[t('siteFile'), t('siteSize'), t('siteModified'), '']}>
              {site.files.map((f) => (
                <tr key={f.path}>
                  <td>{f.path}</td>
                  <td>{f.size.toLocaleString(lang)}</td>
                  <td>{new Date(f.modifiedAt).toLocaleString(lang)}</td>
                  <td>
                    <button type="button" className="danger" aria-label={`${t('remove')} ${f.path}`} onClick={() => void run(() => api('DELETE', `${base}/files/${f.path.split('/').map(enc).join('/')}`), t('siteDeleted', { path: f.path }))}>
                      {t('remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )}
          <div className="filters">
            <Field label={t('siteFolder')} name="site-folder" value={folder} onChange={setFolder} />
            <label>
              {t('siteUpload')}
              <input type="file" name="site-files" multiple onChange={(e) => void uploadFiles(e.target.files)} />
            </label>
            <label>
              {t('siteZip')}
              <input type="file" name="site-zip" accept=".zip,application/zip" onChange={(e) => uploadZip(e.target.files)} />
            </label>
          </div>
          <h4>SFTP</h4>
          <p className="muted">{t('siteSftpHint', { user: site.sftp.user, host: window.location.hostname, port: site.sftp.port })}</p>
          <form className="filters" onSubmit={setSftp} aria-label={t('siteSftpSet')}>
            <label>
              {t('siteSftpPassword')}
              <input type="password" name="sftp-password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
            <button type="submit">{t('siteSftpSet')}</button>
            {site.sftp.enabled && (
              <button type="button" className="danger" onClick={() => void run(() => api('DELETE', `${base}/sftp-password`), t('siteSftpOff'))}>
                {t('siteSftpTurnOff')}
              </button>
            )}
          </form>
          <p className="muted">{site.sftp.enabled ? t('siteSftpIsOn') : t('siteSftpIsOff')}</p>
        </>
      )}
    </>
  );
}
