/**
 * Neutron's `<collection>_links` for a list the role cut into a page: `next` continues after the
 * page's last item, `previous` goes back before its first (`page_reverse=True`). Both keep the rest
 * of the query as the client sent it (filters, `limit`, `fields`), with the marker replaced, as
 * Neutron's api_common does.
 */
export interface PageLink {
  rel: 'next' | 'previous';
  href: string;
}

export function pageLinks(self: string, search: string, page: { next?: string | null; previous?: string | null }): PageLink[] {
  const link = (rel: PageLink['rel'], marker: string): PageLink => {
    const p = new URLSearchParams(search);
    p.delete('marker');
    p.delete('page_reverse');
    p.append('marker', marker);
    if (rel === 'previous') p.append('page_reverse', 'True');
    return { rel, href: `${self}?${p.toString()}` };
  };
  const out: PageLink[] = [];
  if (page.next) out.push(link('next', page.next));
  if (page.previous) out.push(link('previous', page.previous));
  return out;
}
