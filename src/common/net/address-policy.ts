import { isIP } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/**
 * Whether an outbound request may reach an address: only public unicast addresses may. Ranges come
 * from ipaddr.js (maintained with the IANA special-purpose registries): loopback, private (RFC 1918),
 * unique-local, link-local (so 169.254.169.254 and other cloud metadata endpoints), carrier-grade NAT,
 * unspecified (0.0.0.0, ::), multicast, broadcast, documentation, benchmarking and reserved ranges, and
 * the IPv6 transition prefixes (6to4, Teredo, NAT64) that can embed any IPv4 address. An IPv4-mapped
 * IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
 */
export interface AddressVerdict {
  allowed: boolean;
  /** The address in canonical form (IPv4-mapped IPv6 as its IPv4 address). */
  address: string;
  /** The special-purpose range it falls in (`loopback`, `private`, `linkLocal`, …), or `unicast`. */
  range: string;
}

/**
 * Public addresses that still reach a cloud provider's host services: Azure's WireServer
 * (168.63.129.16), which VMs can reach and which answers instance-level requests.
 */
const EXTRA_BLOCKED: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('168.63.129.16/32')];

export function judgeAddress(text: string): AddressVerdict {
  const bare = bareHost(text);
  // A zone index (fe80::1%eth0) only exists on link-local addresses.
  if (bare.includes('%')) return { allowed: false, address: bare, range: 'linkLocal' };
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // parse(), not process(): only the canonical forms Node's resolver and URL parser produce.
    parsed = ipaddr.parse(bare);
  } catch {
    return { allowed: false, address: bare, range: 'invalid' };
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const address = parsed.toString();
  if (EXTRA_BLOCKED.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits))) {
    return { allowed: false, address, range: 'cloudHost' };
  }
  const range = parsed.range();
  return { allowed: range === 'unicast', address, range };
}

/** The host of a parsed URL without IPv6 brackets (`[::1]` → `::1`). */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Whether a URL's host is an IP address literal (the WHATWG URL parser has already normalised 0x7f.1, 2130706433, …). */
export function isIpLiteral(hostname: string): boolean {
  return isIP(bareHost(hostname)) !== 0;
}
