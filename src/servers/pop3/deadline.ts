/** A store call that did not answer within its deadline. */
export class StoreTimeout extends Error {}

/** Resolves or rejects with `work`, or rejects with StoreTimeout after `ms` (principle 4: readers never hang). */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
