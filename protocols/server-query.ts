/** The body of `conductor.query` (the REST API's `GET /servers[/detail]` filters), shared by the API and the conductor. */
export interface ServerQuery {
  projectId?: string;
  name?: string;
  status?: string;
  host?: string;
  /** ISO 8601: servers changed at or after this time, deleted ones included. */
  changesSince?: string;
  image?: string;
  flavor?: string;
  availabilityZone?: string;
  keyName?: string;
  /** Nova's tag filters (2.26): all of, any of, not all of, none of. */
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  /** ISO 8601: servers changed at or before this time (2.66), deleted ones included. */
  changesBefore?: string;
  /** Only these servers (what the `ip`/`ip6` filters matched). */
  uuids?: string[];
  limit?: number;
  marker?: string;
}
