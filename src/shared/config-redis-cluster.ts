import type { Parser } from './config-parsers.js';

/** Who genrelay is on a Redis Cluster, and whether it speaks TLS there. */
export interface RedisClusterAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/** A Redis Cluster's seed nodes and the credentials they share. */
export interface RedisCluster {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly auth: RedisClusterAuth;
}

/** No user, no password, no TLS. */
export const noClusterAuth: RedisClusterAuth = Object.freeze({ username: undefined, password: undefined, tls: false });

/**
 * `REDIS_CLUSTER_NODES`: seed nodes, comma-separated, each `host:port` or a URL
 * (`redis://[user:password@]host:port`, `rediss://` for TLS). Every URL must say the same scheme and
 * credentials (nodes of one cluster share them); plain entries take the URLs'. Messages never
 * repeat a password.
 */
export const redisCluster: Parser<RedisCluster> = {
  accepts: 'host:port or redis:// URLs, comma-separated',
  parse(raw) {
    const wrong = (message: string) => ({ ok: false, message }) as const;
    const nodes: { host: string; port: number }[] = [];
    const auths = new Set<string>();
    let auth: RedisClusterAuth | undefined;
    for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      let host: string;
      let port: number;
      if (/^rediss?:\/\//.test(part)) {
        let u: URL;
        try {
          u = new URL(part);
        } catch {
          return wrong(`an entry is not a valid redis:// or rediss:// URL (entry ${nodes.length + 1})`);
        }
        host = u.hostname.replace(/^\[|\]$/g, '');
        port = u.port === '' ? 6379 : Number(u.port);
        const entry: RedisClusterAuth = {
          username: u.username === '' ? undefined : decodeURIComponent(u.username),
          password: u.password === '' ? undefined : decodeURIComponent(u.password),
          tls: u.protocol === 'rediss:',
        };
        auths.add(JSON.stringify(entry));
        auth = entry;
      } else {
        const at = part.lastIndexOf(':');
        port = Number(part.slice(at + 1));
        host = part.slice(0, at).replace(/^\[|\]$/g, '');
        if (at <= 0) return wrong(`must be host:port pairs or redis:// URLs, comma-separated (entry ${nodes.length + 1} has no port)`);
      }
      if (host === '' || !Number.isInteger(port) || port <= 0 || port >= 65_536) {
        return wrong(`must be host:port pairs or redis:// URLs, comma-separated (entry ${nodes.length + 1} has no valid host and port)`);
      }
      nodes.push({ host, port });
    }
    if (nodes.length === 0) return wrong('must name at least one node');
    if (auths.size > 1) return wrong('every redis:// or rediss:// entry must have the same scheme, user and password');
    return { ok: true, value: { nodes, auth: auth ?? noClusterAuth } };
  },
  // Never written back: the text may hold a password.
  format: () => undefined,
};
