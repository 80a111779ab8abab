import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook must not reach unless `WEBHOOK_ALLOW_PRIVATE` is set: loopback, private,
 * carrier-grade NAT, link-local (the cloud metadata endpoints 169.254.169.254 and fd00:ec2::254 among
 * them), unique-local, multicast, reserved and unspecified ranges.
 */
const refused = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) refused.addSubnet(net, bits, 'ipv4');
// IPv6: unspecified and IPv4-compatible (::/96, loopback in it), SIIT, NAT64 (well-known and local-use),
// 6to4 and Teredo (they tunnel to IPv4 addresses), discard, documentation, site-local, unique-local,
// link-local, multicast.
for (const [net, bits] of [
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) refused.addSubnet(net, bits, 'ipv6');

/** Whether `address` (an IP literal) is one a webhook may not reach by default. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address it maps.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped !== undefined ? refused.check(mapped, 'ipv4') : refused.check(address, 'ipv6');
}

/**
 * Why `url` cannot be a webhook destination, or undefined when it can (as far as can be told without
 * resolving its name; the delivery checks the addresses it resolves to, and connects to the checked one).
 */
export function webhookUrlProblem(url: string, allowPrivate: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowPrivate)) {
    return allowPrivate ? 'must be an http or https URL' : 'must be an https URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host)))) {
    return 'must not point at a loopback, private, link-local or metadata address';
  }
  return undefined;
}
