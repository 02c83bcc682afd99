// Checks a webhook URL's host before it is stored, and again as each request connects (a `lookup` that resolves,
// checks and hands the connection exactly the checked address, so a DNS answer that changes — rebinding — cannot
// slip a private address in between).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { refusal } from './ip.js';

export class UrlRefused extends Error {}

/** Only http(s), no credentials in the URL; returns the parsed URL or throws UrlRefused saying why. */
export function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused(`only http and https URLs are allowed, not ${url.protocol.slice(0, -1)}`);
  if (url.username || url.password) throw new UrlRefused('a URL with credentials is not allowed (use the signature to authenticate)');
  if (!url.hostname) throw new UrlRefused('the URL has no host');
  return url;
}

/** The host without IPv6 brackets. */
const bare = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));
}

/** Resolves the URL's host and refuses it when any of its addresses may not be a target. */
export async function checkTarget(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = parseTarget(raw);
  const host = bare(url.hostname);
  let addrs: LookupAddress[];
  if (isIP(host)) addrs = [{ address: host, family: isIP(host) }];
  else {
    try {
      addrs = await resolveAll(host);
    } catch (err) {
      throw new UrlRefused(`the host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  for (const a of addrs) {
    const why = refusal(a.address, allowPrivate);
    if (why) throw new UrlRefused(`the host ${host} resolves to a refused address: ${why}`);
  }
  return url;
}

/**
 * A `lookup` for http(s).request: resolves, refuses the host if any address is refused, and answers with the checked
 * addresses only. (An IP literal never reaches a lookup: checkTarget checks those before the request.)
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true, ...(options.family ? { family: options.family } : {}) }, (err, addrs) => {
      if (err) return callback(err, '', 0);
      for (const a of addrs) {
        const why = refusal(a.address, allowPrivate);
        if (why) return callback(Object.assign(new UrlRefused(`${hostname} resolves to a refused address: ${why}`), { code: 'EREFUSEDTARGET' }), '', 0);
      }
      if (addrs.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addrs);
      callback(null, addrs[0]!.address, addrs[0]!.family);
    });
  };
}
