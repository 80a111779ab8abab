/**
 * The parsers of the configuration table (`config-table.ts`): each turns one variable's trimmed,
 * non-empty text into a value or a message, says in a few words what it accepts (the README's
 * "accepts" column) and writes a value back as text (the defaults in `.env.example`).
 */

/** What a parser made of a variable's text: a value, or why not (said after the variable's name). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** One kind of value a configuration variable holds. */
export interface Parser<T> {
  /** What the variable accepts, in a few words, for the README. */
  readonly accepts: string;
  /** Reads the trimmed, non-empty text of the variable. */
  parse(raw: string): Parsed<T>;
  /** The value as the variable's text; `undefined` when it has no text (the variable stays unset). */
  format(value: T): string | undefined;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });

/** Any text. */
export const text: Parser<string> = { accepts: 'text', parse: ok, format: (v) => v };

/** Text of at least `min` characters (a secret). */
export function secret(min: number): Parser<string> {
  return {
    accepts: `text, ${min}+ characters`,
    parse: (raw) => (raw.length < min ? bad(`must be at least ${min} characters`) : ok(raw)),
    format: (v) => v,
  };
}

/** Text matching `pattern`; `rule` says which (the message when it does not). */
export function matching(pattern: RegExp, accepts: string, rule: string): Parser<string> {
  return { accepts, parse: (raw) => (pattern.test(raw) ? ok(raw) : bad(rule)), format: (v) => v };
}

/** A whole number from `min` to `max`. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return {
    accepts: max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min}–${max}`,
    parse(raw) {
      const n = Number(raw);
      return Number.isInteger(n) && n >= min && n <= max ? ok(n) : bad(`must be an integer from ${min} to ${max}, got "${raw}"`);
    },
    format: String,
  };
}

/** A URL with one of `protocols` (`'http:'`, …); kept as text. */
export function url(protocols: readonly string[]): Parser<string> {
  return {
    accepts: `${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL`,
    parse(raw) {
      try {
        if (protocols.includes(new URL(raw).protocol)) return ok(raw);
      } catch {
        // Not a URL at all: the same message as a wrong scheme.
      }
      return bad(`must be a ${protocols.join(' or ')} URL, got "${raw}"`);
    },
    format: (v) => v,
  };
}

/** `true`/`1`/`yes` or `false`/`0`/`no`, any case. */
export const bool: Parser<boolean> = {
  accepts: 'true or false',
  parse(raw) {
    const v = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return ok(true);
    if (['false', '0', 'no'].includes(v)) return ok(false);
    return bad(`must be true or false, got "${v}"`);
  },
  format: String,
};

/** Comma-separated text; blanks between commas are dropped. */
export const list: Parser<readonly string[]> = {
  accepts: 'comma-separated list',
  parse: (raw) => ok(raw.split(',').map((k) => k.trim()).filter((k) => k !== '')),
  format: (v) => (v.length === 0 ? undefined : v.join(',')),
};

/** Comma-separated whole milliseconds. */
export const msList: Parser<readonly number[]> = {
  accepts: 'comma-separated integers',
  parse(raw) {
    const parts = raw.split(',').map((p) => Number(p.trim()));
    return parts.some((n) => !Number.isInteger(n) || n < 0) ? bad(`must be comma-separated whole milliseconds, got "${raw}"`) : ok(parts);
  },
  format: (v) => v.join(','),
};

/** `p` or `off`: the variable may also switch a fleet-wide setting off. */
export function orOff<T>(p: Parser<T>): Parser<T | 'off'> {
  return {
    accepts: `${p.accepts}, or off`,
    parse(raw) {
      if (raw === 'off') return ok('off');
      const r = p.parse(raw);
      return r.ok ? r : bad(r.message.replace(/, got "/, ', or off, got "'));
    },
    format: (v) => (v === 'off' ? 'off' : p.format(v)),
  };
}

/** `N/ms`: at most N per that many milliseconds. */
export const rate: Parser<{ readonly max: number; readonly durationMs: number }> = {
  accepts: 'N/ms',
  parse(raw) {
    const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw);
    const max = Number(m?.[1]);
    const durationMs = Number(m?.[2]);
    if (m === null || max < 1 || durationMs < 1) return bad(`must be N/ms (requests per milliseconds, e.g. 50/60000), got "${raw}"`);
    return ok({ max, durationMs });
  },
  format: (v) => `${v.max}/${v.durationMs}`,
};

/** `production` or anything else (`NODE_ENV`). */
export const production: Parser<boolean> = {
  accepts: 'production or other',
  parse: (raw) => ok(raw === 'production'),
  format: (v) => (v ? 'production' : undefined),
};

/** One or more `whsec_<base64 of 24+ bytes>` secrets, space-separated (Standard Webhooks). */
export const webhookSecrets: Parser<readonly string[]> = {
  accepts: 'whsec_… secrets, space-separated',
  parse(raw) {
    const secrets = raw.split(/\s+/).filter((s) => s !== '');
    for (const s of secrets) {
      const key = s.startsWith('whsec_') ? Buffer.from(s.slice(6), 'base64') : Buffer.alloc(0);
      if (key.length < 24) return bad('must be whsec_ followed by the base64 of at least 24 random bytes');
    }
    return ok(secrets);
  },
  format: (v) => (v.length === 0 ? undefined : v.join(' ')),
};
