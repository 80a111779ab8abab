import type Anthropic from '@anthropic-ai/sdk';
import { createHttpFetch } from './http-fetch.js';

/**
 * The option that names a request's activity callback for the fetch of {@link withActivityFetch}:
 * pass it as the request's `fetchOptions` (the SDK spreads them into the `init` its fetch gets).
 */
export const activityOption = (onActivity: () => void): { readonly fetchOptions: FetchOptions } => ({
  fetchOptions: { [activityKey]: onActivity } as FetchOptions,
});

/** The type of a request's `fetchOptions` in the SDK. */
type FetchOptions = NonNullable<NonNullable<Parameters<Anthropic['messages']['create']>[1]>['fetchOptions']>;

const activityKey = 'genrelayOnActivity';
const watched = new WeakMap<Anthropic, Anthropic>();

/**
 * `client` on the worker's own transport ({@link createHttpFetch}), which tells each request's
 * activity callback (named by {@link activityOption}) when the head and every body chunk arrive, so
 * the idle watchdog sees bytes the SDK never surfaces (it swallows `ping` events). Made once per
 * client, because `withOptions` builds a whole new SDK client (66-380 µs per call, warm to cold),
 * which per attempt was a tenth of the queue pick-up at low load (`bench/probes/pickup-path.ts`).
 */
export function withActivityFetch(client: Anthropic): Anthropic {
  let made = watched.get(client);
  if (made === undefined) {
    const transport = createHttpFetch({
      activityOf: (init) => (init as Record<string, unknown> | undefined)?.[activityKey] as (() => void) | undefined,
    });
    made = client.withOptions({ fetch: transport.fetch });
    watched.set(client, made);
  }
  return made;
}
