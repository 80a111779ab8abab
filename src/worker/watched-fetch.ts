import type Anthropic from '@anthropic-ai/sdk';

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
 * `client` with a fetch that reports activity to the callback each request names by
 * {@link activityOption}: made once per client, because `withOptions` builds a whole new SDK client
 * (66-380 µs per call, warm to cold), which per attempt was a tenth of the queue pick-up at low load
 * (`bench/probes/pickup-path.ts`).
 */
export function withActivityFetch(client: Anthropic): Anthropic {
  let made = watched.get(client);
  if (made === undefined) {
    made = client.withOptions({
      fetch: watchedFetch((init) => (init as Record<string, unknown> | undefined)?.[activityKey] as (() => void) | undefined),
    });
    watched.set(client, made);
  }
  return made;
}

/**
 * A `fetch` for the SDK that reports every chunk of the response body as it arrives, so an idle
 * watchdog sees bytes the SDK never surfaces (it swallows `ping` events). `onActivity` should be cheap
 * (it runs per network chunk). `activityOf(init)` names the request's callback (none: nothing is told).
 */
function watchedFetch(activityOf: (init: RequestInit | undefined) => (() => void) | undefined): typeof fetch {
  return async (input, init) => {
    const onActivity = activityOf(init) ?? noop;
    const res = await fetch(input, init);
    onActivity();
    if (res.body === null) return res;
    // A pull-through stream rather than a TransformStream: one read per chunk the SDK asks for, with
    // no writable side and its promises in between (a third of the worker's web-stream cost at 1,000
    // generations).
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          onActivity();
          controller.enqueue(value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

const noop = (): void => {};
