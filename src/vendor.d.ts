// Types for dependencies that ship none.
declare module 'libqp' {
  /** Decodes quoted-printable text (RFC 2045 §6.7). */
  export function decode(text: string): Buffer;
  const libqp: { decode: typeof decode };
  export default libqp;
}
