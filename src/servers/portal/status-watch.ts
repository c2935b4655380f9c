import { IncidentWatch, NO_RATES, mailNotice, ratesBetween, type ActivityRates, type ActivityTotals, type ServiceNotice } from '../../notices/index.js';
import type { PortalDeps } from './deps.js';
import { serviceSignals } from './status-page.js';

const WEEK_MS = 7 * 86_400_000;

/** The rates of the last interval, as the status watch last measured them (the status page uses them between samples). */
export interface LatestRates {
  current: ActivityRates;
}

/**
 * Every `status.sampleSeconds`: the activity totals are read (rates over the interval), the
 * status signals are read, the backlog is sampled for the plots (each instance samples; one
 * row per interval) and the automatic incidents follow the signals. Returns the stop.
 */
export function watchStatus(deps: PortalDeps, latest: LatestRates): () => void {
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
  let totals: ActivityTotals | undefined;
  const tick = async () => {
    if (running) return; // a slow store: skip a beat rather than pile up checks
    running = true;
    try {
      const now = await deps.activity().catch(() => undefined);
      latest.current = now ? ratesBetween(totals, now) : NO_RATES;
      totals = now;
      const signals = await serviceSignals(deps, thresholds, latest.current);
      // The plot's sample and the incidents are independent: a failure of one never holds up the other.
      if (signals.queue) await deps.backlog.recordSample({ at: signals.at, ...signals.queue, latencySeconds: latest.current.latencySeconds }, intervalMs, WEEK_MS).catch((err: unknown) => deps.log.warn({ err }, 'backlog sample not recorded'));
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
