import type { CacheControlEphemeral } from '../../shared/message-params.js';

/** Most prompt-cache breakpoints one request may hold, the API's limit. */
export const maxCacheBreakpoints = 4;

/** Anything that may hold `cache_control`, and the blocks nested in it that may too. */
interface Cacheable {
  readonly type?: string | null;
  readonly cache_control?: CacheControlEphemeral | null;
  readonly content?: unknown;
  readonly source?: unknown;
}

type Path = (string | number)[];

/** A breakpoint: where, and its ttl (`5m` unless it says `1h`). */
interface Breakpoint {
  readonly path: Path;
  readonly ttl: '5m' | '1h';
}

function children(item: Cacheable): [Path, Cacheable][] {
  const list = (value: unknown, path: Path): [Path, Cacheable][] =>
    Array.isArray(value) ? value.map((child: Cacheable, i): [Path, Cacheable] => [[...path, i], child]) : [];
  switch (item.type) {
    case 'tool_result':
    case 'search_result':
      return list(item.content, ['content']);
    case 'document': {
      const source = item.source as { type: string; content?: unknown };
      return source.type === 'content' ? list(source.content, ['source', 'content']) : [];
    }
    case 'web_fetch_tool_result': {
      const result = item.content as { type: string; content?: Cacheable };
      return result.type === 'web_fetch_result' && result.content !== undefined ? [[['content', 'content'], result.content]] : [];
    }
    default:
      return [];
  }
}

/** The breakpoints of `item` and of the blocks inside it, in prompt order (the inner ones end first). */
function breakpointsOf(item: Cacheable, path: Path): Breakpoint[] {
  const inner = children(item).flatMap(([sub, child]) => breakpointsOf(child, [...path, ...sub]));
  const own: Breakpoint[] = item.cache_control == null ? [] : [{ path: [...path, 'cache_control'], ttl: item.cache_control.ttl ?? '5m' }];
  return [...inner, ...own];
}

/** The parts of a request that carry breakpoints. */
export interface CacheableRequest {
  readonly tools?: readonly Cacheable[] | undefined;
  readonly system?: string | readonly Cacheable[] | undefined;
  readonly messages?: readonly { readonly content: string | readonly Cacheable[] }[] | undefined;
  readonly cache_control?: CacheControlEphemeral | null | undefined;
}

/** Every breakpoint of a request, in prompt order (tools, system, messages, then the top-level one). */
function breakpointsIn(request: CacheableRequest): Breakpoint[] {
  return [
    ...(request.tools ?? []).flatMap((tool, i) => breakpointsOf(tool, ['tools', i])),
    ...(typeof request.system === 'string' ? [] : (request.system ?? [])).flatMap((block, i) => breakpointsOf(block, ['system', i])),
    ...(request.messages ?? []).flatMap((message, m) =>
      typeof message.content === 'string' ? [] : message.content.flatMap((block, b) => breakpointsOf(block, ['messages', m, 'content', b])),
    ),
    ...(request.cache_control == null ? [] : [{ path: ['cache_control'], ttl: request.cache_control.ttl ?? '5m' } satisfies Breakpoint]),
  ];
}

/** How many prompt-cache breakpoints a request (or part of one) holds. */
export function countCacheBreakpoints(request: CacheableRequest): number {
  return breakpointsIn(request).length;
}

/**
 * Problems with the request's prompt-cache breakpoints: more than {@link maxCacheBreakpoints} (the
 * top-level `cache_control` places one on the last cacheable block, so it counts), or a `1h` one after
 * a `5m` one in prompt order (tools, system, messages), which the API refuses.
 */
export function cacheBreakpointIssues(request: CacheableRequest): { path: Path; message: string }[] {
  const all = breakpointsIn(request);
  const issues: { path: Path; message: string }[] = [];
  const extra = all[maxCacheBreakpoints];
  if (extra !== undefined) {
    issues.push({
      path: extra.path,
      message: `is cache breakpoint number ${maxCacheBreakpoints + 1} of ${all.length}: a request may hold at most ${maxCacheBreakpoints} (tools, system and messages, and the top-level cache_control counts as one)`,
    });
  }
  const firstShort = all.findIndex((b) => b.ttl === '5m');
  const lateLong = firstShort === -1 ? undefined : all.slice(firstShort).find((b) => b.ttl === '1h');
  if (lateLong !== undefined) {
    issues.push({ path: [...lateLong.path, 'ttl'], message: 'a 1h cache breakpoint must come before every 5m one (in the order tools, system, messages)' });
  }
  return issues;
}
