/**
 * An IPv6 address in the form Nova answers it (netaddr's `str(IPAddress(v))`, RFC 5952): lowercase
 * hex, the longest run of zero groups as `::`, an IPv4-mapped address with its dotted quad. Nova
 * stores access addresses as address objects, so `0000:…:babe:220.12.22.2` comes back as
 * `::babe:dc0c:1602`.
 */
export function canonicalIpv6(v: string): string {
  let host: string;
  try {
    // WHATWG URL serialisation is RFC 5952's compression (no dotted quads).
    host = new URL(`http://[${v}]/`).hostname.slice(1, -1);
  } catch {
    return v; // not an address: left as it is (validation is the caller's)
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
