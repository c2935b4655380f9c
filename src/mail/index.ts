/**
 * mail: the shared vocabulary of Hikyaku — addresses and the named errors.
 * No I/O. Every other module may import it; it imports nothing of the project.
 * RFCs: 5321 (address limits), 5322 §3.4 (addr-spec), 6531 (UTF-8 local parts); SRS0
 * (the Sender Rewriting Scheme as libsrs2 writes it).
 */
export * from './address.js';
export * from './errors.js';
export * from './srs.js';
