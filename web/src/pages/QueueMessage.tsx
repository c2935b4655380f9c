import { useEffect, useRef, useState } from 'react';
import { api, type QueuedMessageView } from '../api';
import { Table } from '../parts';
import { formatBytes, problemText, useI18n, type Key } from '../i18n';

/** One queued message as an operator reads it: envelope, header summary, its entries, every failed attempt. */
export function QueueMessage({ id, onClose }: { id: number; onClose(): void }) {
  const { t, lang } = useI18n();
  const [message, setMessage] = useState<QueuedMessageView>();
  const [error, setError] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB') : '–');
  useEffect(() => {
    api<QueuedMessageView>('GET', `/queue/entries/${id}`).then(setMessage, (err: unknown) => setError(problemText(t, lang, err)));
  }, [id, t, lang]);
  useEffect(() => heading.current?.focus(), [message]);
  return (
    <div className="overlay" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <section className="card dialog wide-dialog" role="dialog" aria-modal="true" aria-labelledby="message-title">
        <h2 id="message-title" tabIndex={-1} ref={heading}>
          {t('queueMessageTitle', { id })}
        </h2>
        <p role="alert" className="error">
          {error}
        </p>
        {message && (
          <>
            <dl className="facts">
              <dt>{t('queueSender')}</dt>
              <dd>{message.sender}</dd>
              <dt>{t('queueReceived')}</dt>
              <dd>{time(message.receivedAt)}</dd>
              <dt>{t('queueSize')}</dt>
              <dd>{formatBytes(message.size)}{message.smtputf8 ? ' · SMTPUTF8' : ''}</dd>
              <dt>{t('queueMessageId')}</dt>
              <dd><code>{message.messageId}</code></dd>
              {Object.entries(message.headers).map(([name, value]) => (
                <FragmentRow key={name} name={name} value={value} />
              ))}
            </dl>
            <h3>{t('queueEntries')}</h3>
            <Table caption={t('queueEntries')} headers={[t('queueId'), t('queueRcpt'), t('queueState'), t('queueAttempts'), t('queueNext'), t('queueLastError')]}>
              {message.entries.map((e) => (
                <tr key={e.id}>
                  <td>{e.id}</td>
                  <td>{e.rcpt}</td>
                  <td>{t(`queueState_${e.state}` as Key)}</td>
                  <td>{e.attempts}</td>
                  <td>{time(e.nextAttemptAt)}</td>
                  <td className="reason">{e.lastError ?? ''}</td>
                </tr>
              ))}
            </Table>
            <h3>{t('queueAttemptsTitle')}</h3>
            {message.attempts.length === 0 ? (
              <p className="muted">{t('queueNoAttempts')}</p>
            ) : (
              <Table caption={t('queueAttemptsTitle')} headers={[t('when'), t('queueId'), t('queueLastError')]}>
                {message.attempts.map((a, i) => (
                  <tr key={i}>
                    <td>{time(a.at)}</td>
                    <td>{a.entry}</td>
                    <td className="reason">{a.error}</td>
                  </tr>
                ))}
              </Table>
            )}
          </>
        )}
        <div className="row end">
          <button type="button" onClick={onClose}>
            {t('close')}
          </button>
        </div>
      </section>
    </div>
  );
}

function FragmentRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{value.length > 300 ? `${value.slice(0, 300)}…` : value}</dd>
    </>
  );
}
