const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `visit(user)` for every user every `everyMs` until `deadline` (performance.now()
 * time), the users' first visits spread over the first interval, as clients' timers are.
 * A visit that runs long delays that user's next one, never the others'.
 */
export async function everyUser(users: readonly string[], everyMs: number, deadline: number, visit: (user: string) => Promise<void>): Promise<void> {
  const start = performance.now();
  await Promise.all(
    users.map(async (user, i) => {
      for (let next = start + (i * everyMs) / users.length; next < deadline; next += everyMs) {
        if (next > performance.now()) await sleep(next - performance.now());
        if (performance.now() >= deadline) break;
        await visit(user);
      }
    }),
  );
}
