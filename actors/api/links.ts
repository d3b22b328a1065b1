/**
 * Absolute URLs this API hands out (links in bodies, `Location` headers, the service catalog). Every
 * service lives under one base URL: identity at `/v3`, compute at `/v2.1`, image at `/image` and
 * networking at `/networking` (as devstack mounts Glance and Neutron), so one port serves them all
 * without their version documents colliding.
 */
export class Links {
  /** Set once the server listens (the port may be chosen by the OS). */
  constructor(public base: string) {}

  get identity(): string {
    return `${this.base}/v3`;
  }
  get compute(): string {
    return `${this.base}/v2.1`;
  }
  get image(): string {
    return `${this.base}/image`;
  }
  get network(): string {
    return `${this.base}/networking`;
  }

  /** Nova's `self` and `bookmark` links for a compute resource path like `/servers/<id>`. */
  compLinks(path: string): { rel: string; href: string }[] {
    return [
      { rel: 'self', href: `${this.compute}${path}` },
      { rel: 'bookmark', href: `${this.base}${path}` },
    ];
  }
}
