// The console: submit a prompt, watch it stream, cancel it, share a viewer link.
import { tailJob } from './job-view.js';

const $ = (id) => document.getElementById(id);
const keyInput = $('api-key');
keyInput.value = sessionStorage.getItem('genrelay.apiKey') ?? '';
let current = null;
let stop = null;

const headers = () => {
  const h = { 'content-type': 'application/json' };
  if (keyInput.value) h.authorization = `Bearer ${keyInput.value}`;
  return h;
};
const problemText = async (res) => {
  try {
    const p = await res.json();
    return [p.detail ?? p.title, ...(p.errors ?? []).map((e) => `${e.path || '/'}: ${e.message}`)].join('\n');
  } catch {
    return `HTTP ${res.status}`;
  }
};

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  sessionStorage.setItem('genrelay.apiKey', keyInput.value);
  stop?.();
  $('error').textContent = '';
  $('notice').textContent = '';
  $('share').textContent = '';
  const body = {
    max_tokens: Number($('max-tokens').value),
    messages: [{ role: 'user', content: $('prompt').value }],
  };
  if ($('model').value.trim()) body.model = $('model').value.trim();
  $('submit').disabled = true;
  try {
    const res = await fetch('/v1/jobs', { method: 'POST', headers: headers(), body: JSON.stringify(body) });
    if (!res.ok) {
      $('error').textContent = await problemText(res);
      return;
    }
    current = await res.json();
    const link = document.createElement('a');
    link.href = `/jobs/${current.id}?token=${encodeURIComponent(current.viewer_token)}`;
    link.target = '_blank';
    link.textContent = 'Open the viewer page (share this link)';
    $('share').replaceChildren(link);
    $('cancel').disabled = false;
    stop = tailJob({
      jobId: current.id,
      token: current.viewer_token,
      ui: { status: $('status'), connection: $('connection'), text: $('output'), ttft: $('ttft'),
            tps: $('tps'), tokens: $('tokens'), viewers: $('viewers'), notice: $('notice') },
      onEnd: () => { $('cancel').disabled = true; },
    });
  } catch (err) {
    $('error').textContent = String(err);
  } finally {
    $('submit').disabled = false;
  }
});

$('cancel').addEventListener('click', async () => {
  if (!current) return;
  $('cancel').disabled = true;
  const res = await fetch(`/v1/jobs/${current.id}/cancel`, { method: 'POST', headers: headers() });
  if (!res.ok) {
    $('error').textContent = await problemText(res);
    $('cancel').disabled = false;
  }
});
