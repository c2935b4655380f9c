import { IncidentWatch, mailNotice, type ServiceNotice } from '../../notices/index.js';
import type { PortalDeps } from './deps.js';
import { serviceSignals } from './status-page.js';

const WEEK_MS = 7 * 86_400_000;

/**
 * Every `status.sampleSeconds`: the status signals are read, the backlog is sampled for the
 * plots (each instance samples; one row per interval) and the automatic incidents follow
 * the signals. Returns the stop.
 */
export function watchStatus(deps: PortalDeps): () => void {
  const { status } = deps.options;
  const intervalMs = status.sampleSeconds * 1000;
  const thresholds = { ...status, checkTimeoutMs: deps.options.storeTimeoutMs };
  const mail = (notice: ServiceNotice) =>
    void mailNotice(deps.noticeMail, notice).then(
      (n) => deps.log.info({ notice: notice.id, recipients: n }, 'notice mailed to administrators'),
      (err: unknown) => deps.log.error({ err, notice: notice.id }, 'could not mail the notice'),
    );
  const incidents = new IncidentWatch(deps.notices, { mode: status.autoIncidents, afterMs: status.incidentAfterSeconds * 1000, onPublished: status.incidentMail ? mail : undefined }, deps.log);
  let running = false;
  const tick = async () => {
    if (running) return; // a slow store: skip a beat rather than pile up checks
    running = true;
    try {
      const signals = await serviceSignals(deps, thresholds);
      if (signals.queue) await deps.backlog.recordSample({ at: signals.at, ...signals.queue }, intervalMs, WEEK_MS);
      await incidents.observe(signals);
    } catch (err) {
      deps.log.debug({ err }, 'status not sampled this time');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
