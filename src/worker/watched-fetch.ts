/**
 * A `fetch` for the SDK that reports every chunk of the response body as it arrives, so an idle
 * watchdog sees bytes the SDK never surfaces (it swallows `ping` events). `onActivity` should be cheap
 * (it runs per network chunk).
 */
export function createWatchedFetch(onActivity: () => void): typeof fetch {
  return async (input, init) => {
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
