import { maxWaitS } from '../routes/jobs.js';
import { componentRef } from './components.js';
import { eventStream, json, params, preflight, problems, security, type OpenApiObject } from './operation-parts.js';

const location = { Location: { description: 'The job record: `/v1/jobs/{id}`.', schema: { type: 'string' } } };
const jobCursor = { type: 'string', pattern: '^\\d+$' };
const conversationCursor = { type: 'string', pattern: '^\\d{1,9}-\\d{1,15}$' };

/** The job endpoints (API.md §2). */
const jobs: Record<string, Record<string, OpenApiObject>> = {
  '/v1/jobs': {
    post: {
      operationId: 'createJob',
      summary: 'Enqueue a generation',
      description:
        'The Anthropic Messages parameters of a generation plus job options, validated before anything is queued. ' +
        'Rules across fields (tool_use/tool_result pairing, cache breakpoints, `max_tokens` and `messages` unless ' +
        '`previous_job_id`, …) are checked by the server and answered as a 400 with every path (see API.md).',
      tags: ['jobs'],
      security: security.key,
      parameters: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'The same key with the same body returns the existing job (200); with another body, a 409.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: componentRef('CreateJobBody') } } },
      responses: {
        '202': json('Queued: the new job.', 'JobSubmission', location),
        '200': json('The job an earlier request with this Idempotency-Key created, as it is now.', 'JobSubmission', location),
        ...problems(400, 401, 404, 409, 413, 415, 503),
      },
    },
  },
  '/v1/jobs/{id}': {
    get: {
      operationId: 'getJob',
      summary: 'The job record',
      tags: ['jobs'],
      security: security.reader,
      parameters: [
        params.jobId,
        params.token,
        {
          name: 'wait',
          in: 'query',
          required: false,
          description: `Wait up to this many seconds for the job to end (at most ${maxWaitS}).`,
          schema: { type: 'integer', minimum: 0, maximum: maxWaitS },
        },
        { name: 'Prefer', in: 'header', required: false, description: '`wait=N`, as `?wait=` (RFC 7240).', schema: { type: 'string' } },
      ],
      responses: {
        '200': json('The record (with `wait`: the job has ended).', 'JobRecord'),
        '202': json('With `wait`: the job is still running after the wait; the record so far.', 'JobRecord', location),
        ...problems(400, 401, 404, 503),
      },
    },
    options: preflight('preflightJob'),
  },
  '/v1/jobs/{id}/stats': {
    get: {
      operationId: 'getJobStats',
      summary: "The job's counters, without its text",
      description: 'Status, attempt, usage, metrics and live viewers, for pages that show counters beside a stream. One read per job per second on each node.',
      tags: ['jobs'],
      security: security.reader,
      parameters: [params.jobId, params.token],
      responses: { '200': json('The counters.', 'JobStats'), ...problems(401, 404, 503) },
    },
    options: preflight('preflightJobStats'),
  },
  '/v1/jobs/{id}/events': {
    get: {
      operationId: 'streamJobEvents',
      summary: "The job's events, live (Server-Sent Events)",
      description: 'Replay from the start (or after the cursor), then live, no gap and no duplicate; closes after `done`.',
      tags: ['jobs'],
      security: security.reader,
      parameters: [params.jobId, params.token, params.lastEventIdHeader(jobCursor), params.lastEventIdQuery(jobCursor)],
      responses: {
        '200': eventStream('The event stream; ids are the job\'s sequence numbers 1, 2, 3, …', 'JobStreamEvent'),
        '204': { description: 'The cursor is at or after `done` of an ended job: nothing more will come (EventSource stops).' },
        ...problems(400, 401, 404, 503),
      },
    },
    options: preflight('preflightJobEvents'),
  },
  '/v1/jobs/{id}/cancel': {
    post: {
      operationId: 'cancelJob',
      summary: 'Cancel a job (on any host)',
      tags: ['jobs'],
      security: security.key,
      parameters: [params.jobId],
      responses: {
        '202': json('Cancel requested: the worker stops the job; the record now.', 'JobRecord'),
        '200': json('Cancelled while queued, or already ended: the record.', 'JobRecord'),
        ...problems(401, 404, 503),
      },
    },
  },
  '/v1/jobs/{id}/viewer-token': {
    post: {
      operationId: 'createJobViewerToken',
      summary: 'A viewer token for one job',
      tags: ['jobs'],
      security: security.key,
      parameters: [params.jobId],
      responses: { '201': json('The token and the URLs it opens.', 'ViewerTokenGrant'), ...problems(401, 404, 503) },
    },
  },
};

/** The conversation endpoints (API.md §4.2). */
const conversations: Record<string, Record<string, OpenApiObject>> = {
  '/v1/conversations/{id}': {
    get: {
      operationId: 'getConversation',
      summary: 'A conversation and its turns',
      tags: ['conversations'],
      security: security.reader,
      parameters: [params.conversationId, params.token],
      responses: { '200': json('The conversation.', 'Conversation'), ...problems(401, 404, 503) },
    },
    options: preflight('preflightConversation'),
  },
  '/v1/conversations/{id}/events': {
    get: {
      operationId: 'streamConversationEvents',
      summary: "The conversation's events, turn after turn (Server-Sent Events)",
      description: 'Stays open for the next turn. Before each turn, `event: turn` (id `<turn>-0`); its job events follow with ids `<turn>-<seq>`.',
      tags: ['conversations'],
      security: security.reader,
      parameters: [params.conversationId, params.token, params.lastEventIdHeader(conversationCursor), params.lastEventIdQuery(conversationCursor)],
      responses: { '200': eventStream('The event stream.', 'ConversationStreamEvent'), ...problems(400, 401, 404, 503) },
    },
    options: preflight('preflightConversationEvents'),
  },
  '/v1/conversations/{id}/viewer-token': {
    post: {
      operationId: 'createConversationViewerToken',
      summary: 'A viewer token for a conversation and its jobs',
      tags: ['conversations'],
      security: security.key,
      parameters: [params.conversationId],
      responses: { '201': json('The token and the URLs it opens.', 'ViewerTokenGrant'), ...problems(401, 404, 503) },
    },
  },
};

/** Every path genrelay's API answers but its pages and operations endpoints (see `operationsPaths`). */
export const apiPaths: Record<string, Record<string, OpenApiObject>> = { ...jobs, ...conversations };
