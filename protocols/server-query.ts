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
  limit?: number;
  marker?: string;
}
