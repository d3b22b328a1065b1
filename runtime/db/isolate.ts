/**
 * Writes a batch so that one bad row cannot fail everybody else's: the whole batch first, and on a
 * failure the two halves, and so on down to single rows (about 2·log2(n) extra statements for one
 * bad row among n). Returns the rows that failed on their own, with their errors. A transient
 * failure of everything (the database restarting) costs one more statement per row at worst; the
 * callers retry what is returned.
 */
export async function writeIsolating<T>(items: T[], write: (items: T[]) => Promise<void>): Promise<{ item: T; err: unknown }[]> {
  if (items.length === 0) return [];
  try {
    await write(items);
    return [];
  } catch (err) {
    if (items.length === 1) return [{ item: items[0]!, err }];
    const mid = Math.ceil(items.length / 2);
    const left = await writeIsolating(items.slice(0, mid), write);
    const right = await writeIsolating(items.slice(mid), write);
    return [...left, ...right];
  }
}
