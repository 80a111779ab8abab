import type { ServerResponse } from 'node:http';
import type { SimBehaviour, SimHttpFault } from './directive.js';
import { sendError, type ApiErrorType } from './wire.js';

/** Status, error type and message of each HTTP fault, as the real API words them. */
const HTTP_FAULTS: Record<SimHttpFault, { status: number; type: ApiErrorType; message: string }> = {
  http_400: { status: 400, type: 'invalid_request_error', message: 'Simulated invalid request' },
  http_401: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  http_403: {
    status: 403,
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  http_404: { status: 404, type: 'not_found_error', message: 'Not found' },
  http_413: { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  http_429: {
    status: 429,
    type: 'rate_limit_error',
    message: "This request would exceed your organization's rate limit. Please try again later.",
  },
  http_500: { status: 500, type: 'api_error', message: 'Internal server error' },
  http_529: { status: 529, type: 'overloaded_error', message: 'Overloaded' },
};

/** HTTP status the real API uses for each error type (for error_event on a non-streaming request). */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

/** True for the faults answered with an HTTP error before any stream. */
export function isHttpFault(fault: SimBehaviour['fault']): fault is SimHttpFault {
  return fault !== null && fault.startsWith('http_');
}

/**
 * Sends an HTTP fault with the real body. 429 always carries `retry-after` (default 1 s) and the
 * `anthropic-ratelimit-requests-*` headers; 500 and 529 carry `retry-after` only when the directive
 * sets `retry_after`. Fractional seconds are sent as given (the SDK parses floats) so tests stay fast.
 */
export function sendHttpFault(res: ServerResponse, fault: SimHttpFault, behaviour: SimBehaviour, requestId: string): void {
  const spec = HTTP_FAULTS[fault];
  sendError(res, spec.status, spec.type, spec.message, requestId, faultHeaders(spec.status, behaviour));
}

/**
 * The error_event fault of a non-streaming request: there is no stream to break, so it becomes the
 * HTTP error of `error_type` (overloaded_error → 529). Returns the status sent.
 */
export function sendTypedError(res: ServerResponse, behaviour: SimBehaviour, requestId: string): number {
  const status = STATUS_OF_TYPE[behaviour.error_type] ?? 500;
  const message = behaviour.error_type === 'overloaded_error' ? 'Overloaded' : 'Simulated error';
  sendError(res, status, behaviour.error_type, message, requestId, faultHeaders(status, behaviour));
  return status;
}

function faultHeaders(status: number, behaviour: SimBehaviour): Record<string, string> {
  const headers: Record<string, string> = {};
  if (status === 429) {
    const seconds = behaviour.retry_after ?? 1;
    headers['retry-after'] = String(seconds);
    headers['anthropic-ratelimit-requests-limit'] = '50';
    headers['anthropic-ratelimit-requests-remaining'] = '0';
    headers['anthropic-ratelimit-requests-reset'] = new Date(Date.now() + seconds * 1000).toISOString();
  } else if ((status === 500 || status === 529) && behaviour.retry_after !== null) {
    headers['retry-after'] = String(behaviour.retry_after);
  }
  return headers;
}
