import { AppError } from './errors.js';
import type { ConfigVariable } from './config-table.js';
import { configTable } from './config-table.js';
import { noClusterAuth, type RedisClusterAuth } from './config-redis-cluster.js';

export type { RedisClusterAuth } from './config-redis-cluster.js';

type Table = typeof configTable;
/** The value a table entry gives: its parser's type, or `undefined` too when it has no default. */
type ValueOf<V> = V extends ConfigVariable<infer T, infer D> ? (undefined extends D ? T | undefined : T) : never;
/** The table's fields as read, before `REDIS_CLUSTER_NODES` is split into nodes and credentials. */
type TableValues = { readonly [K in keyof Table]: ValueOf<Table[K]> };

/**
 * Everything genrelay reads from the environment, typed, with units in the names: one field per entry
 * of `configTable` (config-table.ts says each one's variable, default and meaning), except
 * `REDIS_CLUSTER_NODES`, which gives `redisClusterNodes` (unset: none) and `redisClusterAuth`.
 */
export type Config = Omit<TableValues, 'redisCluster'> & {
  /** `REDIS_CLUSTER_NODES`' seed nodes; when set, every process runs on that Cluster, not `REDIS_URL`. */
  readonly redisClusterNodes: readonly { readonly host: string; readonly port: number }[] | undefined;
  /** The credentials and TLS of `REDIS_CLUSTER_NODES`' URLs, the same for every node. */
  readonly redisClusterAuth: RedisClusterAuth;
};

type Defaults = { readonly [K in keyof Table as Table[K]['default'] extends undefined ? never : K]: Table[K]['default'] };

/** Defaults of every variable that has one, from the table. */
export const defaults: Defaults = Object.freeze(
  Object.fromEntries(Object.entries(configTable).filter(([, v]) => v.default !== undefined).map(([k, v]) => [k, v.default])),
) as Defaults;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from `env` (pure: pass `process.env` from a `main.ts`) as `configTable`
 * says: a variable unset or blank takes its default. Reports every bad variable at once in one
 * `config_invalid` error whose `details` hold `{ path: variable, message }`.
 */
export function loadConfig(env: Env): Config {
  const problems: { path: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(configTable) as [string, ConfigVariable<unknown, unknown>][]) {
    const raw = env[entry.name]?.trim();
    values[key] = entry.default;
    if (raw === undefined || raw === '') continue;
    const parsed = entry.parser.parse(raw);
    if (parsed.ok) values[key] = parsed.value;
    else problems.push({ path: entry.name, message: parsed.message });
  }
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.path} ${p.message}`).join('; ');
    throw new AppError('config_invalid', `invalid configuration: ${list}`, { details: problems });
  }
  const { redisCluster, ...rest } = values as unknown as TableValues;
  return Object.freeze({
    ...rest,
    redisClusterNodes: redisCluster?.nodes,
    redisClusterAuth: redisCluster?.auth ?? noClusterAuth,
  });
}
