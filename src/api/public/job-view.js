// Tails one job in a page: EventSource for the text (it resumes with Last-Event-ID by itself),
// the job's counters (`GET /v1/jobs/{id}/stats`: a few small fields, never the text) polled for the
// token count, metrics and the live viewer count.
import { MarkdownView } from './markdown-view.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/** What the page says when the API refuses the link, by HTTP status. */
const refusals = {
  401: (hasToken) => hasToken
    ? ['link expired', 'This link has expired or is not valid. Ask whoever shared it for a new one.']
    : ['needs a link', 'This job can only be viewed with its viewer link (…?token=…) or an API key.'],
  404: () => ['not found', 'No such job, or its result has expired.'],
};

/**
 * Starts tailing job `jobId` with viewer token `token` ('' for none: fine when the API has no keys),
 * showing it in the elements of `ui` ({status, connection, text, ttft, tps, tokens, viewers, notice}).
 * A link the API refuses (expired or altered token, unknown job) is said so on the page, at once and
 * whenever the stream is refused later. Returns a stop function.
 */
export function tailJob({ jobId, token, ui, onEnd }) {
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  let text = '';
  let lastId = 0;
  let ended = false;
  let frame = 0;
  let lastTokens = null;
  const view = new MarkdownView(ui.text);
  const set = (el, value) => { if (el) el.textContent = value; };
  const render = () => {
    frame = 0;
    view.update(text);
    ui.text.classList.toggle('empty', text === '');
  };
  const schedule = () => { if (frame === 0) frame = requestAnimationFrame(render); };
  const setConnection = (state) => {
    set(ui.connection, state);
    if (ui.connection) ui.connection.dataset.state = state;
  };
  const setStatus = (status) => {
    set(ui.status, status.replace('_', ' '));
    if (ui.status) ui.status.dataset.status = status;
  };

  ui.text.dataset.placeholder = 'Waiting for the first tokens…';
  /** The API refused the link: say why, stop streaming and polling. */
  const refuse = (status) => {
    const says = refusals[status];
    if (says === undefined) return false;
    const [pill, message] = says(token !== '');
    ended = true;
    es.close();
    clearInterval(timer);
    set(ui.status, pill);
    if (ui.status) ui.status.dataset.status = 'refused';
    setConnection('stopped');
    set(ui.notice, message);
    ui.text.dataset.placeholder = 'Nothing to show.';
    return true;
  };

  const es = new EventSource(`/v1/jobs/${encodeURIComponent(jobId)}/events${q}`);
  // Defensive: the server never repeats an id after Last-Event-ID, but a page must not double text.
  const fresh = (e) => {
    const id = Number(e.lastEventId);
    if (id <= lastId) return false;
    lastId = id;
    return true;
  };
  es.onopen = () => setConnection('live');
  es.onerror = () => {
    if (ended) return;
    setConnection(es.readyState === EventSource.CONNECTING ? 'reconnecting…' : 'disconnected');
    // EventSource gives up without saying why on a 401 or 404: ask the stats endpoint (same answer).
    if (es.readyState === EventSource.CLOSED) void poll();
  };
  es.addEventListener('status', (e) => {
    if (!fresh(e)) return;
    const data = JSON.parse(e.data);
    setStatus(data.status);
  });
  es.addEventListener('delta', (e) => {
    if (!fresh(e)) return;
    text += JSON.parse(e.data).text;
    schedule();
  });
  es.addEventListener('thinking', (e) => { fresh(e); });
  es.addEventListener('reset', (e) => {
    if (!fresh(e)) return;
    const data = JSON.parse(e.data);
    text = '';
    set(ui.notice, `Retrying (attempt ${data.attempt}): ${data.reason}. The text starts over.`);
    schedule();
  });
  es.addEventListener('done', (e) => {
    if (!fresh(e)) return;
    const data = JSON.parse(e.data);
    ended = true;
    es.close();
    setStatus(data.status);
    setConnection('finished');
    // Every stream of the job ends with `done`: nobody is watching it live any more.
    viewersFinal = true;
    set(ui.viewers, '0');
    if (data.error) set(ui.notice, `${data.error.type}: ${data.error.message}`);
    else if (data.truncated) set(ui.notice, 'Stopped at max_tokens (truncated).');
    if (frame !== 0) cancelAnimationFrame(frame);
    render();
    view.finish();
    void poll();
    onEnd?.(data);
  });

  let viewersFinal = false;
  const poll = async () => {
    try {
      const res = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/stats${q}`);
      if (!res.ok) {
        refuse(res.status);
        return;
      }
      const stats = await res.json();
      // Status comes from the stream (a replay starts at `queued`; the poll must not fight it).
      if (!viewersFinal) set(ui.viewers, String(stats.viewers));
      set(ui.tokens, String(stats.usage.output_tokens));
      if (stats.metrics.ttft_ms !== null) set(ui.ttft, `${stats.metrics.ttft_ms} ms`);
      if (stats.metrics.output_tokens_per_s !== null) set(ui.tps, `${stats.metrics.output_tokens_per_s}`);
      else if (lastTokens !== null) {
        const rate = ((stats.usage.output_tokens - lastTokens.n) * 1000) / (Date.now() - lastTokens.at);
        if (rate >= 0) set(ui.tps, rate.toFixed(1));
      }
      lastTokens = { n: stats.usage.output_tokens, at: Date.now() };
      if (TERMINAL.has(stats.status)) clearInterval(timer);
    } catch {
      // The page keeps its last numbers while the API is unreachable; the stream shows the state.
    }
  };
  const timer = setInterval(poll, 2000);
  void poll();
  setConnection('connecting…');
  return () => {
    ended = true;
    es.close();
    clearInterval(timer);
  };
}
