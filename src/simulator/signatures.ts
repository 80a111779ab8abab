import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What the simulator issued for thinking blocks, so a later request can be checked the way the API
 * checks them: a thinking block must come back with the signature issued for exactly its text, a
 * redacted_thinking block with data the simulator sent.
 */
export interface SignatureBook {
  /**
   * The signature of a thinking block with this text: `given` (remembered for this text), else
   * base64 of an HMAC-SHA256 of the text under the simulator's secret, which needs no memory to check.
   */
  signThinking(thinking: string, given?: string): string;
  /** True when `signature` was issued by `signThinking` for exactly `thinking`. */
  verifyThinking(thinking: string, signature: string): boolean;
  /** Data of a redacted_thinking block: `given` (remembered), else a verifiable blob derived from `seed`. */
  redactedData(seed: string, given?: string): string;
  /** True when `data` was issued by `redactedData`. */
  verifyRedacted(data: string): boolean;
}

/** Remembered (directive-given) values kept per book; the oldest is forgotten first. */
const REMEMBERED = 10_000;
const NONCE_BYTES = 24;

/** Creates a book signing under `secret` (a random one per simulator unless a fixture needs it fixed). */
export function createSignatureBook(secret: string): SignatureBook {
  const thinkingBySignature = new Map<string, string>();
  const issuedData = new Set<string>();
  const mac = (purpose: string, value: string | Buffer): Buffer =>
    createHmac('sha256', secret).update(purpose).update('\0').update(value).digest();
  const forgetOldest = (store: Map<string, string> | Set<string>): void => {
    if (store.size > REMEMBERED) store.delete(store.keys().next().value as string);
  };
  return {
    signThinking(thinking, given) {
      if (given === undefined) return mac('thinking', thinking).toString('base64');
      thinkingBySignature.set(given, thinking);
      forgetOldest(thinkingBySignature);
      return given;
    },
    verifyThinking(thinking, signature) {
      if (thinkingBySignature.get(signature) === thinking) return true;
      const expected = mac('thinking', thinking);
      const actual = Buffer.from(signature, 'base64');
      return actual.length === expected.length && actual.toString('base64') === signature && timingSafeEqual(actual, expected);
    },
    redactedData(seed, given) {
      if (given !== undefined) {
        issuedData.add(given);
        forgetOldest(issuedData);
        return given;
      }
      const nonce = createHash('sha256').update(seed).digest().subarray(0, NONCE_BYTES);
      return Buffer.concat([nonce, mac('redacted', nonce).subarray(0, NONCE_BYTES)]).toString('base64');
    },
    verifyRedacted(data) {
      if (issuedData.has(data)) return true;
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length !== 2 * NONCE_BYTES || bytes.toString('base64') !== data) return false;
      const nonce = bytes.subarray(0, NONCE_BYTES);
      return timingSafeEqual(bytes.subarray(NONCE_BYTES), mac('redacted', nonce).subarray(0, NONCE_BYTES));
    },
  };
}
