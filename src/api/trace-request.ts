import type { RequestHandler } from 'express';
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { carrierOf, contextOf, type TraceCarrier } from '../shared/trace-context.js';

/** Where {@link traceSubmission} leaves the request span's carrier for the handler (`res.locals`). */
const localsKey = 'traceCarrier';

/** The carrier of the traced request `res` answers, for the job it submits; undefined when not traced. */
export function requestCarrier(locals: Record<string, unknown>): TraceCarrier | undefined {
  return locals[localsKey] as TraceCarrier | undefined;
}

/**
 * A SERVER span for a submission (`POST /v1/jobs`): the child of the request's W3C `traceparent`
 * when it has one, else the root of a new trace. Its carrier goes to the handler (see
 * {@link requestCarrier}), which passes it to the job, so every attempt's span is its child. The span
 * ends with the response, with its status code and the job id from `Location`.
 */
export function traceSubmission(tracer: Tracer, route: string): RequestHandler {
  return (req, res, next) => {
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'http.route': route,
          'url.path': req.path,
          'url.scheme': req.protocol,
          ...(req.get('user-agent') === undefined ? {} : { 'user_agent.original': req.get('user-agent') }),
        },
      },
      contextOf(req.headers),
    );
    res.locals[localsKey] = carrierOf(span);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const status = res.statusCode;
      span.setAttribute('http.response.status_code', status);
      const jobId = /^\/v1\/jobs\/([^/?]+)/.exec(String(res.getHeader('location') ?? ''))?.[1];
      if (jobId !== undefined) span.setAttribute('genrelay.job.id', jobId);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (!res.writableFinished) span.setAttribute('error.type', 'client_closed');
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    next();
  };
}
