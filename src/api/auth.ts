import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../shared/errors.js';
import { isConversationId } from '../shared/ids.js';
import { conversationIdOf, jobTag } from '../shared/keys.js';
import { verifyViewerToken } from '../shared/viewer-token.js';

/** The conversation a job id belongs to, from its tag alone (no Redis read): its first job's. */
const conversationOfJob = (jobId: string): string => conversationIdOf(jobTag(jobId));
import type { TokenSecret } from './token-secret.js';

/** Who a request was let in as: with a viewer token, what it was for (a job or a conversation id). */
export type Access = { readonly kind: 'open' } | { readonly kind: 'key' } | { readonly kind: 'viewer'; readonly subject: string };

/** Dependencies of {@link createAuth}. */
export interface AuthDeps {
  /** Submitter keys; empty = auth off. */
  readonly apiKeys: readonly string[];
  /** The viewer-token signing secret. */
  readonly tokenSecret: TokenSecret;
  /**
   * `VIEWER_TOKEN_PREVIOUS_SECRETS`: secrets that signed tokens before a rotation. A token one of them
   * signed still verifies (until it expires); nothing new is signed with them. Default none.
   */
  readonly previousSecrets?: readonly string[];
  readonly now?: () => number;
}

/** The two gates of the API. */
export interface Auth {
  /** Every `/v1` call that is not a read of one job: a valid `Authorization: Bearer <key>`. */
  readonly requireKey: RequestHandler;
  /**
   * Reads of job or conversation `:id` (record and events): a key, or a viewer token in `?token=` for
   * it, or, for a job, for its conversation.
   */
  readonly requireReader: RequestHandler;
  /** The access a request was granted (after a gate ran). */
  access(req: Request): Access;
  /**
   * The same checks for a connection that is not an HTTP request (a WebSocket): a key as in an
   * `Authorization` value, or a viewer token; undefined when refused. With auth off, no credentials
   * is `open` (a token given must still be good).
   */
  authenticate(credentials: { readonly authorization?: string | undefined; readonly key?: string | undefined; readonly token?: string | undefined }): Promise<Access | undefined>;
  /** Whether `access` may read job or conversation `id`. */
  mayRead(access: Access, id: string): boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const accessKey = Symbol('genrelay.access');
type WithAccess = Request & { [accessKey]?: Access };

function unauthorized(): AppError {
  // One answer for every refusal (missing, wrong or expired key or token; any job): nothing to learn.
  return new AppError('unauthorized', 'A valid API key (Authorization: Bearer …) or viewer token is required.');
}

/** Creates the gates. Keys are compared as SHA-256 digests in constant time, against every key. */
export function createAuth(deps: AuthDeps): Auth {
  const keys = deps.apiKeys.map(digest);
  const now = deps.now ?? Date.now;
  const previousSecrets = deps.previousSecrets ?? [];
  const authOff = keys.length === 0;

  const keyIs = (raw: string): boolean => {
    const given = digest(raw.trim());
    let ok = false;
    for (const key of keys) ok = timingSafeEqual(given, key) || ok;
    return ok;
  };
  const bearer = (header: string | undefined) => /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1];
  const keyMatches = (req: Request): boolean => {
    const given = bearer(req.get('authorization'));
    return given !== undefined && keyIs(given);
  };
  /** Whether a token is good for reading `id` (a job, or a conversation and its jobs). */
  const grants = (subject: string, id: string) => subject === id || (isConversationId(subject) && conversationOfJob(id) === subject);
  /** The token's subject when it is good (signed by this deployment, unexpired), else undefined. */
  const tokenSubject = async (token: string, id?: string): Promise<string | undefined> => {
    const verifyWith = (secret: string) => verifyViewerToken(secret, token, (subject) => id === undefined || grants(subject, id), now());
    // The current secret, then the previous ones: a signature that is not theirs is the only refusal
    // another secret can turn around.
    const verify = () => {
      let verdict = verifyWith(deps.tokenSecret.current());
      for (const previous of previousSecrets) {
        if (verdict.ok || verdict.reason !== 'bad_signature') break;
        verdict = verifyWith(previous);
      }
      return verdict;
    };
    let verdict = verify();
    // Signed by a node that knows a newer shared secret than this one (Redis lost it and another
    // node made a new one): read it again before refusing.
    if (!verdict.ok && verdict.reason === 'bad_signature' && (await deps.tokenSecret.refresh())) verdict = verify();
    return verdict.ok ? verdict.claims.subject : undefined;
  };
  const grant = (req: Request, access: Access) => {
    (req as WithAccess)[accessKey] = access;
  };
  const refuse = (res: Response): never => {
    res.set('www-authenticate', 'Bearer');
    throw unauthorized();
  };
  const checkKey = (req: Request, res: Response) => {
    if (authOff) grant(req, { kind: 'open' });
    else if (keyMatches(req)) grant(req, { kind: 'key' });
    else refuse(res);
  };

  return {
    requireKey(req, res, next) {
      checkKey(req, res);
      next();
    },
    async requireReader(req, res, next) {
      const token = req.query['token'];
      if (token === undefined) {
        checkKey(req, res);
        next();
        return;
      }
      // A token that is present must be good, even with auth off: a broken share link says so.
      const id = req.params['id'];
      if (typeof token !== 'string' || typeof id !== 'string') refuse(res);
      const subject = await tokenSubject(String(token), String(id));
      if (subject === undefined) refuse(res);
      grant(req, { kind: 'viewer', subject: String(subject) });
      next();
    },
    access(req) {
      return (req as WithAccess)[accessKey] ?? { kind: 'open' };
    },
    async authenticate({ authorization, key, token }) {
      if (token !== undefined) {
        const subject = await tokenSubject(token);
        return subject === undefined ? undefined : { kind: 'viewer', subject };
      }
      const given = key ?? bearer(authorization);
      if (authOff) return { kind: 'open' };
      return given !== undefined && keyIs(given) ? { kind: 'key' } : undefined;
    },
    mayRead(access, id) {
      return access.kind !== 'viewer' || grants(access.subject, id);
    },
  };
}
