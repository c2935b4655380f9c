/**
 * rehearsal: `hikyaku rehearse`, the night of DESIGN.md replayed against an installation
 * on this machine (principle 7): load and storage faults on a timeline, everything sampled
 * each second, the mail read back, a verdict per promise and a report with plots.
 */
export * from './scenario.js';
export * from './scenario-2016-10.js';
export * from './installation.js';
export * from './recorder.js';
export * from './rehearse.js';
export * from './verdict.js';
export * from './report.js';
