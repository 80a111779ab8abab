/**
 * A `fetch` for the SDK that reports every chunk of the response body as it arrives, so an idle
 * watchdog sees bytes the SDK never surfaces (it swallows `ping` events). One pass-through transform
 * per request; `onActivity` should be cheap (it runs per network chunk).
 */
export function createWatchedFetch(onActivity: () => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    onActivity();
    if (res.body === null) return res;
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onActivity();
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
