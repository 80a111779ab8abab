import { createHash } from 'node:crypto';
import type { InputUsage } from './usage.js';

/** One cacheable piece of a prompt, in cache order: each tool, each system block, each message content block. */
export interface CacheUnit {
  /** Canonical JSON of the piece (sorted keys, no `cache_control`), with its message index and role. */
  readonly canonical: string;
  /** Lifetime of the entry a breakpoint on this piece writes; null when the piece is no breakpoint. */
  readonly ttlMs: number | null;
}

/** The prompt cache of one simulator. */
export interface PromptCache {
  /**
   * The token split of a prompt: null without breakpoints (the caller counts tokens its own way), else
   * reads the longest prefix cached at a breakpoint, writes the prefixes of the later breakpoints and
   * refreshes the hit. Tokens are a quarter of the canonical characters, as the simulator counts text.
   */
  use(model: string, units: readonly CacheUnit[]): InputUsage | null;
}

/** Options of the prompt cache. */
export interface PromptCacheOptions {
  /** Prefixes shorter than this many tokens are neither written nor read (the API's 1024 for most models). */
  readonly minTokens: number;
  /** The clock (ms), injectable so a test can expire entries. */
  readonly now: () => number;
}

const FIVE_MINUTES_MS = 5 * 60_000;
const ONE_HOUR_MS = 60 * 60_000;
/** Block boundaries before a breakpoint at which the API also looks for a cached prefix. */
const LOOKBACK_BLOCKS = 20;
/** Entries kept at most; the least recently used goes first. */
const MAX_ENTRIES = 10_000;

/** Creates an empty prompt cache. */
export function createPromptCache(options: PromptCacheOptions): PromptCache {
  const expiries = new Map<string, number>();
  const touch = (key: string, expiresAt: number): void => {
    expiries.delete(key);
    expiries.set(key, expiresAt);
    if (expiries.size > MAX_ENTRIES) expiries.delete(expiries.keys().next().value as string);
  };
  return {
    use(model, units) {
      const hash = createHash('sha256').update(model);
      // The prefix ending at every unit, and which of them are breakpoints.
      const prefixes: { key: string; tokens: number; ttlMs: number | null }[] = [];
      let chars = 0;
      for (const unit of units) {
        hash.update('\n').update(unit.canonical);
        chars += unit.canonical.length;
        prefixes.push({ key: hash.copy().digest('base64'), tokens: tokens(chars), ttlMs: unit.ttlMs });
      }
      const breakpoints = prefixes.flatMap((p, i) => (p.ttlMs === null ? [] : [{ ...p, ttlMs: p.ttlMs, at: i }]));
      if (breakpoints.length === 0) return null;
      const now = options.now();
      const eligible = breakpoints.filter((b) => b.tokens >= options.minTokens);
      // As the API: a breakpoint also hits on a prefix cached at any of the ~20 block boundaries before
      // it, so one breakpoint at the end of each turn reads what the turn before cached.
      let cacheRead = 0;
      for (const b of eligible) {
        for (let i = b.at; i >= Math.max(0, b.at - LOOKBACK_BLOCKS); i -= 1) {
          const p = prefixes[i];
          if (p === undefined || p.tokens < options.minTokens || p.tokens <= cacheRead) continue;
          const expiresAt = expiries.get(p.key);
          if (expiresAt === undefined || expiresAt <= now) continue;
          cacheRead = p.tokens;
          touch(p.key, now + b.ttlMs);
          break;
        }
      }
      const last = eligible.at(-1);
      const cacheCreation = last !== undefined && last.tokens > cacheRead ? last.tokens - cacheRead : 0;
      for (const b of eligible) if (b.tokens > cacheRead) touch(b.key, now + b.ttlMs);
      return { input: Math.max(1, tokens(chars)) - cacheRead - cacheCreation, cacheCreation, cacheRead };
    },
  };
}

/**
 * The cacheable units of a request body, in the API's cache order: tools, then system, then messages.
 * A string system prompt or message content is one text block.
 */
export function cacheUnits(body: Record<string, unknown>): CacheUnit[] {
  const units: CacheUnit[] = [];
  const add = (piece: unknown, wrapper: Record<string, unknown>): void => {
    units.push({ canonical: canonicalJson({ ...wrapper, block: piece }), ttlMs: ttlOf(piece) });
  };
  const tools = body['tools'];
  if (Array.isArray(tools)) for (const tool of tools) add(tool, { at: 'tools' });
  for (const block of asBlocks(body['system'])) add(block, { at: 'system' });
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const [i, message] of messages.entries()) {
      const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
      for (const block of asBlocks(m['content'])) add(block, { at: 'messages', message: i, role: m['role'] });
    }
  }
  return units;
}

/** JSON with sorted keys and no `cache_control` anywhere: moving a breakpoint does not change a prefix. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => k !== 'cache_control' && record[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function asBlocks(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content : [];
}

function ttlOf(piece: unknown): number | null {
  const control = typeof piece === 'object' && piece !== null ? (piece as Record<string, unknown>)['cache_control'] : undefined;
  if (typeof control !== 'object' || control === null) return null;
  return (control as Record<string, unknown>)['ttl'] === '1h' ? ONE_HOUR_MS : FIVE_MINUTES_MS;
}

function tokens(chars: number): number {
  return Math.ceil(chars / 4);
}
