import { BlockList, isIP } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { ActionError } from './action-error.js';

/**
 * Where a webhook may go. In production a target that is (or resolves to) a
 * loopback, private, link-local (incl. the cloud metadata address
 * 169.254.169.254), CGNAT, multicast or reserved address is refused, unless
 * its host is listed in AOL_WEBHOOK_ALLOW_HOSTS. Checked at enqueue (a 400)
 * and again at connect time on the resolved address, so a name that resolves
 * elsewhere later (DNS rebinding) still can't reach the inside.
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Whether an IP address is one a production webhook must not reach. */
export function isBlockedAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '');
  // IPv4 written as IPv6 (::ffff:127.0.0.1, ::ffff:7f00:1, NAT64 64:ff9b::…): judge the IPv4 inside.
  const mapped = /^(?:::ffff:|64:ff9b::)(.+)$/i.exec(bare);
  if (mapped) {
    const inner = mapped[1];
    if (isIP(inner) === 4) return blocked.check(inner, 'ipv4');
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(inner);
    if (hex) {
      const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
      return blocked.check(
        [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'),
        'ipv4',
      );
    }
  }
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) return blocked.check(bare, 'ipv6');
  return false;
}

export type OutboundPolicy = Readonly<{ production: boolean; allowHosts: readonly string[] }>;

const refusal = (host: string, ip: string) =>
  `payload.url: ${host} is${host === ip ? '' : ` (resolves to ${ip})`} a loopback, private, link-local or metadata address; outbound calls there are refused in production unless AOL_WEBHOOK_ALLOW_HOSTS lists ${host}`;

/** The host as the URL parser normalised it (127.1, 0x7f000001 → 127.0.0.1), lower case, without brackets. */
export function targetHost(url: string): string {
  return new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

export function allowed(host: string, policy: OutboundPolicy): boolean {
  return !policy.production || policy.allowHosts.includes(host);
}

/** The refusal message for a host and its resolved addresses, or undefined when it may be called. */
export function refuseTarget(
  host: string,
  addresses: readonly string[],
  policy: OutboundPolicy,
): string | undefined {
  if (allowed(host, policy)) return undefined;
  const bad = addresses.find(isBlockedAddress);
  return bad === undefined ? undefined : refusal(host, bad);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
export type LookupFn = (hostname: string, options: LookupOptions, cb: LookupCallback) => void;

/**
 * A `lookup` for the connection: resolves with `base` (dns.lookup), then
 * refuses the connection before it is made when any resolved address is
 * blocked by the policy. The socket only ever connects to an address this
 * function has returned.
 */
export function guardedLookup(base: LookupFn, policy: OutboundPolicy): LookupFn {
  return (hostname, options, cb) => {
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const list = addresses as LookupAddress[];
      const why = refuseTarget(
        hostname.toLowerCase(),
        list.map((a) => a.address),
        policy,
      );
      if (why) return cb(Object.assign(new Error(why), { code: 'AOL_SSRF_REFUSED' }), '');
      if (options.all) return cb(null, list);
      cb(null, list[0].address, list[0].family);
    });
  };
}

/** The connect-time refusal as an action outcome: permanent (retrying won't change the address policy). */
export function ssrfError(err: unknown): ActionError | undefined {
  let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e)
    if (e.code === 'AOL_SSRF_REFUSED') return new ActionError('permanent', e.message ?? 'refused');
  return undefined;
}
