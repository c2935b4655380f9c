/**
 * observability: the structured logger (pino) and the metrics registry (prom-client).
 * Metric names are hikyaku_<module>_<what>_<unit>. No module keeps a global logger or registry.
 */
export * from './logger.js';
export * from './metrics.js';
export * from './crash-points.js';
export * from './health.js';
