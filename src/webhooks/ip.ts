// Pure: which addresses a webhook may not be sent to (SSRF), by range.
import { BlockList, isIP } from 'node:net';

/** Why an address is refused; `allowPrivate` lifts only the kinds in PRIVATE_KINDS. */
export type AddressKind = 'loopback' | 'private' | 'link_local' | 'cgnat' | 'unspecified' | 'metadata' | 'multicast' | 'reserved';
export const PRIVATE_KINDS: ReadonlySet<AddressKind> = new Set(['loopback', 'private', 'link_local', 'cgnat']);

const RANGES: [AddressKind, 'ipv4' | 'ipv6', string, number][] = [
  // Cloud metadata services first: refused even with private targets allowed.
  ['metadata', 'ipv4', '169.254.169.254', 32],
  ['metadata', 'ipv4', '169.254.170.2', 32], // ECS task metadata
  ['metadata', 'ipv4', '100.100.100.200', 32], // Alibaba
  ['metadata', 'ipv4', '192.0.0.192', 32], // Oracle
  ['metadata', 'ipv6', 'fd00:ec2::254', 128], // AWS over IPv6
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['link_local', 'ipv4', '169.254.0.0', 16],
  ['cgnat', 'ipv4', '100.64.0.0', 10],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '192.0.2.0', 24],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['reserved', 'ipv4', '198.51.100.0', 24],
  ['reserved', 'ipv4', '203.0.113.0', 24],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['reserved', 'ipv4', '240.0.0.0', 4], // and 255.255.255.255
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv6', '::1', 128],
  ['private', 'ipv6', 'fc00::', 7],
  ['link_local', 'ipv6', 'fe80::', 10],
  ['multicast', 'ipv6', 'ff00::', 8],
  ['reserved', 'ipv6', '2001:db8::', 32],
];

const LISTS = new Map<AddressKind, BlockList>();
for (const [kind, family, net, prefix] of RANGES) {
  let list = LISTS.get(kind);
  if (!list) LISTS.set(kind, (list = new BlockList()));
  list.addSubnet(net, prefix, family);
}
const ORDER: AddressKind[] = ['metadata', 'unspecified', 'loopback', 'private', 'link_local', 'cgnat', 'multicast', 'reserved'];

/** An IPv4 address carried in IPv6 (`::ffff:a.b.c.d`, `::a.b.c.d`, NAT64 `64:ff9b::/96`), else undefined. */
function embeddedV4(v6: string): string | undefined {
  const lower = v6.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16), lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The kind of a non-public address, or undefined for a public one (or a string that is no IP address). */
export function classifyAddress(address: string): AddressKind | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  if (family === 6) {
    const v4 = embeddedV4(address);
    if (v4 !== undefined) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return ORDER.find((kind) => LISTS.get(kind)!.check(address, type));
}

/** Why `address` may not be a webhook target, or undefined when it may. */
export function refusal(address: string, allowPrivate: boolean): string | undefined {
  const kind = classifyAddress(address);
  if (kind === undefined || (allowPrivate && PRIVATE_KINDS.has(kind))) return undefined;
  const what = kind === 'metadata' ? 'a cloud metadata' : kind === 'cgnat' ? 'a CGNAT (100.64.0.0/10)' : `a ${kind.replace('_', '-')}`;
  return `${address} is ${what} address${PRIVATE_KINDS.has(kind) ? ' (allowed only with NOTIFY_WEBHOOK_ALLOW_PRIVATE=on)' : ''}`;
}
