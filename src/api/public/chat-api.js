// The chat page's credentials and HTTP calls: an API key (asked for as the console does, kept in
// sessionStorage for this tab) or, on a shared link, the conversation's viewer token (read-only).
import { createSocketClient } from '/assets/lib/client/socket.js';

const KEY_ITEM = 'genrelay.apiKey';

/**
 * The page's access: `token` from `?token=` (read-only) or the key typed in `keyInput`. `socket()`
 * is the page's one socket client (it reconnects and resubscribes by itself), made on first use and
 * made again after `reset()` (a new key, or credentials the server refused).
 */
export function createAccess({ keyInput, onConnection }) {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const readOnly = token !== '';
  keyInput.value = sessionStorage.getItem(KEY_ITEM) ?? '';
  let socket;

  const key = () => (readOnly ? '' : keyInput.value.trim());
  const withToken = (path) => (readOnly ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path);

  return {
    readOnly,
    token,
    saveKey() {
      sessionStorage.setItem(KEY_ITEM, keyInput.value.trim());
    },
    /** Calls the API; resolves with the JSON body, rejects with `{status, detail}` on a problem. */
    async call(path, { method = 'GET', body, viewerToken } = {}) {
      const headers = key() ? { authorization: `Bearer ${key()}` } : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const url = viewerToken ? `${path}?token=${encodeURIComponent(viewerToken)}` : withToken(path);
      const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const json = await res.json().catch(() => ({}));
      if (!res.ok) throw Object.assign(new Error(json.detail ?? json.title ?? `HTTP ${res.status}`), { status: res.status, detail: json.detail });
      return json;
    },
    socket() {
      if (socket === undefined) {
        onConnection('connecting…');
        socket = createSocketClient({
          baseUrl: location.origin,
          ...(readOnly ? { token } : key() ? { apiKey: key() } : {}),
          onState: (state) => onConnection(state.kind === 'connected' ? 'live' : 'reconnecting…'),
        });
      }
      return socket;
    },
    /** Drops the socket client: the next `socket()` connects again with the current credentials. */
    reset() {
      socket?.close();
      socket = undefined;
    },
  };
}

/** What to tell the user for a refused call or a failed socket request. */
export function problemText(err, readOnly) {
  if (err?.status === 401) {
    return readOnly
      ? 'This link has expired or is not valid. Ask whoever shared it for a new one.'
      : 'The API needs a key: enter it above (or open a read-only share link).';
  }
  if (err?.status === 404) return 'No such conversation, or it has expired.';
  return err?.detail || err?.message || String(err);
}
