/**
 * Nova reads aggregate metadata as the union over the host's aggregates of comma-split, stripped
 * values (nova/scheduler/utils.py aggregate_metadata_get_by_host). csvContains walks one value in
 * place instead of building it per host.
 */

/** Is `item` one of the comma-separated, whitespace-trimmed entries of `list`? Allocation free. */
export function csvContains(list: string, item: string): boolean {
  let start = 0;
  const n = list.length;
  while (start <= n) {
    let end = list.indexOf(',', start);
    if (end < 0) end = n;
    let s = start;
    let e = end;
    while (s < e && isSpace(list.charCodeAt(s))) s++;
    while (e > s && isSpace(list.charCodeAt(e - 1))) e--;
    if (e - s === item.length && list.startsWith(item, s)) return true;
    start = end + 1;
  }
  return false;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
