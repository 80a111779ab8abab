import type { z } from 'zod';

/** One problem of a refused request: a JSON Pointer (RFC 6901) into the body, and what is wrong there. */
export interface IssueDetail {
  readonly path: string;
  readonly message: string;
}

/** JSON Pointer (RFC 6901) of a schema issue path. */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** A union branch that failed only because the value is not of its type at all. */
function wrongTypeOnly(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0;
}

/**
 * The schema's issues as `{path, message}`, one per problem. A union whose value matched one branch's
 * type reports that branch's own issues (so a thinking block without its signature inside
 * `content: string | block[]` is reported at `/…/content/0/signature`, not at `/…/content`).
 */
export function issueDetails(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): IssueDetail[] {
  return issues.flatMap((issue): IssueDetail[] => {
    const path = [...prefix, ...(issue.path ?? [])];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: pointer([...path, key]),
        message:
          key === 'cache_control'
            ? 'is not allowed here: the API takes cache_control only on the blocks and tools it can cache (never on thinking)'
            : 'is not a known field',
      }));
    }
    if (issue.code === 'invalid_union') {
      if (issue.errors.length === 0) {
        const options = ((issue as { options?: unknown[] }).options ?? []).filter((o): o is string => typeof o === 'string');
        const omittable = ((issue as { options?: unknown[] }).options ?? []).includes(undefined);
        return [{ path: pointer(path), message: `must be one of: ${options.join(', ')}${omittable ? ' (or left out)' : ''}` }];
      }
      const matching = issue.errors.filter((branch) => !wrongTypeOnly(branch));
      if (matching.length === 1 && matching[0] !== undefined) return issueDetails(matching[0], path);
      if (matching.length === 0) {
        const expected = issue.errors.map((branch) => (branch[0]?.code === 'invalid_type' ? article(branch[0].expected) : 'something else'));
        return [{ path: pointer(path), message: `must be ${expected.join(' or ')}` }];
      }
    }
    return [{ path: pointer(path), message: issue.message }];
  });
}
