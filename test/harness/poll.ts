/**
 * Bounded polling of a condition, for states that announce no event (a counter, a listing): checked
 * every `everyMs` until true or `timeoutMs` passes. A throwing condition counts as false.
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, everyMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(cond).catch(() => false)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `until`, failing with `timed out waiting for <what>` when the bound passes. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  if (!(await until(cond, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}
