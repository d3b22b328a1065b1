/**
 * Paths that name a resource by an empty id (`DELETE /v2.1/images/`, `GET /v2/images/`). The
 * router's `ignoreTrailingSlash` would route them to the collection (the list, or a 405 for its
 * methods), but Nova and Glance answer 404: no image has an empty id. Exactly these method and path
 * pairs, so every other trailing-slash path keeps routing as before.
 */
const EMPTY_ID_PATHS: Readonly<Record<string, ReadonlySet<string>>> = {
  DELETE: new Set(['/v2.1/images/', '/image/v2/images/']),
  GET: new Set(['/image/v2/images/']),
};

/** True when `method url` names an item by an empty id (the query string does not matter). */
export function namesEmptyId(method: string, url: string): boolean {
  return EMPTY_ID_PATHS[method]?.has(url.split('?')[0]!) ?? false;
}
