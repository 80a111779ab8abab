import type { IncomingMessage } from 'node:http';

/**
 * A response body read straight from the socket's `data` events, for the SDK. The SDK reads a body
 * through `body[Symbol.asyncIterator]` when it has one (`ReadableStreamToAsyncIterable` in its shims),
 * so the stream handed to `Response` carries its own iterator: each chunk goes from the socket to the
 * waiting `next()` with one promise, not through a web stream's queue, reader and pull promises (web
 * streams were 4.7% of the worker's busy time at 1,000 generations). Anything else that reads the body
 * (`text()`, `getReader()`) goes through the stream, which pulls from the same queue.
 *
 * At most one chunk waits unread: with more the socket is paused until the reader catches up. The
 * iterator does not mark the `Response` as used (`bodyUsed` stays false): only the SDK reads it.
 * `release` runs once the body is over, whichever way; `onFail` receives what fails the body from
 * outside (an abort, a request error), which also destroys the socket.
 */
export function bodyStream(
  res: IncomingMessage,
  onActivity: () => void,
  release: () => void,
  onFail: (fail: (err: unknown) => void) => void,
): ReadableStream<Uint8Array> {
  const queue = createBodyQueue(res, onActivity, release);
  onFail((err) => {
    queue.finish(err);
    res.destroy();
  });
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const read = await queue.next();
        if (read.done) controller.close();
        else controller.enqueue(read.value);
      },
      async cancel() {
        await queue.return();
      },
    },
    { highWaterMark: 0 },
  );
  Object.defineProperty(stream, Symbol.asyncIterator, { value: () => queue, configurable: true });
  return stream;
}

/** The body's chunks as an async iterator; `finish` ends it (with an error, or not). */
interface BodyQueue extends AsyncIterator<Uint8Array, undefined> {
  next(): Promise<IteratorResult<Uint8Array, undefined>>;
  return(): Promise<IteratorResult<Uint8Array, undefined>>;
  finish(err?: unknown): void;
}

const doneResult: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function createBodyQueue(res: IncomingMessage, onActivity: () => void, release: () => void): BodyQueue {
  const chunks: Buffer[] = [];
  // Reads not answered yet, in order (an async iterator may be called again before it answers).
  const waiting: { resolve: (r: IteratorResult<Uint8Array, undefined>) => void; reject: (err: unknown) => void }[] = [];
  let over = false;
  let failure: { err: unknown } | undefined;

  const finish = (err?: unknown) => {
    if (over) return;
    over = true;
    if (err !== undefined) {
      failure = { err };
      // As fetch does: a failed body hands out nothing more, not even what was read before.
      chunks.length = 0;
    }
    release();
    // Chunks never wait while a reader does, so the waiting readers get the ending itself.
    for (const w of waiting.splice(0)) {
      if (failure !== undefined) w.reject(failure.err);
      else w.resolve(doneResult);
    }
  };

  res.on('data', (chunk: Buffer) => {
    if (over) return;
    onActivity();
    const w = waiting.shift();
    if (w !== undefined) {
      w.resolve({ done: false, value: chunk });
      return;
    }
    chunks.push(chunk);
    res.pause();
  });
  res.once('end', () => finish());
  onCutShort(res, finish);

  return {
    finish,
    next() {
      const chunk = chunks.shift();
      if (chunk !== undefined) {
        if (chunks.length === 0 && !over && res.isPaused()) res.resume();
        return Promise.resolve({ done: false, value: chunk });
      }
      if (failure !== undefined) return Promise.reject(failure.err);
      if (over) return Promise.resolve(doneResult);
      if (res.isPaused()) res.resume();
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
      });
    },
    return() {
      // The reader stopped early (`break`, or the SDK cancelling the body): drop the connection.
      if (!over) {
        over = true;
        release();
        res.destroy();
      }
      chunks.length = 0;
      for (const w of waiting.splice(0)) w.resolve(doneResult);
      return Promise.resolve(doneResult);
    },
  };
}

/**
 * Calls `fail` with undici's `TypeError('terminated')` when `res` errors, or when its socket closes
 * before the body's end without an error (Node reports `aborted` as one on some versions only).
 */
export function onCutShort(res: IncomingMessage, fail: (err: TypeError) => void): void {
  res.on('error', (err) => fail(new TypeError('terminated', { cause: err })));
  res.once('close', () => {
    if (!res.complete) fail(new TypeError('terminated', { cause: new Error('the connection closed before the body ended') }));
  });
}
