// The chat page, /chat and /chat/{conversation_id}: a conversation on the socket. Every turn is
// rendered from the conversation's events, replayed from the start on a load and live after, so a
// reload restores it from the server and a dropped socket resumes (the client's `after`) with
// nothing lost or repeated. A shared link (?token=) opens it read-only.
import { createAccess, problemText } from './chat-api.js';
import { TurnView, userBubble, userText } from './chat-turn.js';

const $ = (id) => document.getElementById(id);
const transcript = $('transcript');
const setConnection = (text) => {
  $('connection').textContent = text;
  $('connection').dataset.state = text;
};
const access = createAccess({ keyInput: $('api-key'), onConnection: setConnection });
let conversationId = location.pathname.split('/')[2] ? decodeURIComponent(location.pathname.split('/')[2]) : undefined;
/** Turns by number; `last` is the newest; `outbox` the message being created ({text, bubble, job}). */
const turns = new Map();
let last;
let outbox;
let record;
let following;

const conversationPath = () => `/v1/conversations/${encodeURIComponent(conversationId)}`;
let scrollFrame = 0;
/** Keeps the newest text in view while the reader is at the bottom (not when they scrolled up to read). */
const keepInView = () => {
  if (scrollFrame !== 0 || innerHeight + scrollY < document.documentElement.scrollHeight - 120) return;
  // After the turn's own render frame (frames run in the order they were asked for).
  scrollFrame = requestAnimationFrame(() => {
    scrollFrame = 0;
    scrollTo(0, document.documentElement.scrollHeight);
  });
};

const say = (err, where = $('notice')) => {
  if (err?.status === 401) access.reset();
  where.textContent = problemText(err, access.readOnly);
};

function updateComposer() {
  if (access.readOnly) return;
  const running = last !== undefined && !last.ended;
  $('stop').hidden = !running;
  $('stop').disabled = !running;
  $('send').disabled = running || outbox !== undefined;
  $('share').hidden = conversationId === undefined;
}

/** The user's text of turn `turn`, from the conversation record (read again when it lacks the turn). */
async function userTextOf(turn) {
  const find = () => record?.turns.find((t) => t.turn === turn);
  if (find() === undefined) record = await access.call(conversationPath()).catch(() => record);
  return (find()?.messages ?? []).filter((m) => m.role === 'user').map((m) => userText(m.content)).join('\n');
}

async function onTurn({ job_id: jobId, turn }) {
  let bubble;
  let user;
  // Our own message: its turn replaces the pending bubble (awaited: the turn can come before `created`).
  if (outbox !== undefined && (await outbox.job.catch(() => undefined))?.id === jobId) {
    ({ bubble, text: user } = outbox);
    outbox = undefined;
  }
  const view = new TurnView({ turn, jobId, user: user ?? (await userTextOf(turn)) });
  turns.set(turn, view);
  last = view;
  if (bubble !== undefined) bubble.replaceWith(view.element);
  else if (outbox !== undefined) outbox.bubble.before(view.element);
  else transcript.append(view.element);
  updateComposer();
}

/** Follows the conversation from its first event: one subscription, resumed by the socket client. */
async function follow() {
  following?.abort();
  const ctl = new AbortController();
  following = ctl;
  try {
    for await (const ev of access.socket().subscribe({ conversation: conversationId }, { signal: ctl.signal })) {
      keepInView();
      if (ev.type === 'turn') await onTurn(ev.data);
      else turns.get(ev.turn)?.apply(ev.type, ev.data);
      if (ev.type === 'done' || ev.type === 'status') updateComposer();
    }
  } catch (err) {
    if (ctl.signal.aborted) return;
    say(err);
    setConnection('closed');
  }
}

function showConversation() {
  $('conversation-id').textContent = conversationId;
  document.title = `genrelay · chat · ${conversationId}`;
  updateComposer();
}

/** Loads `/chat/{id}`: the record (it also says whether these credentials may read it), then the events. */
async function load() {
  following?.abort();
  turns.clear();
  last = undefined;
  transcript.replaceChildren();
  showConversation();
  try {
    record = await access.call(conversationPath());
  } catch (err) {
    say(err);
    setConnection('closed');
    return;
  }
  $('notice').textContent = '';
  void follow();
}

/** The next user message: turn 1 starts a conversation; later turns continue its last job. */
function bodyFor(text) {
  if (last === undefined) return { max_tokens: 1024, messages: [{ role: 'user', content: text }] };
  // The page runs no tools: each finished tool call of the last turn is answered as such.
  const answers = last.toolUseIds.map((id) => ({ type: 'tool_result', tool_use_id: id, is_error: true, content: 'No tool runs in the chat page.' }));
  const content = answers.length === 0 ? text : [...answers, { type: 'text', text }];
  return { previous_job_id: last.jobId, messages: [{ role: 'user', content }] };
}

async function send(event) {
  event.preventDefault();
  const text = $('message').value;
  if (text.trim() === '' || outbox !== undefined) return;
  access.saveKey();
  $('error').textContent = '';
  const bubble = userBubble(text);
  bubble.classList.add('pending');
  transcript.append(bubble);
  bubble.scrollIntoView({ block: 'nearest' });
  $('message').value = '';
  const mine = { text, bubble, job: access.socket().create(bodyFor(text)) };
  outbox = mine;
  updateComposer();
  // Without a key, an API that needs one only refuses the socket when its auth window ends (10 s).
  if (!access.readOnly && $('api-key').value.trim() === '') {
    setTimeout(() => {
      if (outbox === mine && $('connection').dataset.state !== 'live') $('error').textContent = 'Waiting for the server… If it needs an API key, enter it above.';
    }, 2000);
  }
  try {
    const job = await mine.job;
    $('error').textContent = '';
    const turn = await access.call(`/v1/jobs/${encodeURIComponent(job.id)}`, { viewerToken: job.viewer_token });
    if (conversationId === undefined) {
      conversationId = turn.conversation_id;
      history.replaceState(null, '', `/chat/${encodeURIComponent(conversationId)}`);
      showConversation();
      void follow();
    } else if (turn.conversation_id !== conversationId) {
      // Another page continued this conversation first: this turn forked a new one. Go there.
      location.assign(`/chat/${encodeURIComponent(turn.conversation_id)}`);
    }
  } catch (err) {
    if (outbox === mine) {
      outbox = undefined;
      bubble.remove();
      if ($('message').value === '') $('message').value = text;
    }
    say(err, $('error'));
  } finally {
    updateComposer();
  }
}

$('stop').addEventListener('click', async () => {
  if (last === undefined || last.ended) return;
  $('stop').disabled = true;
  try {
    await access.socket().cancel(last.jobId);
  } catch (err) {
    say(err, $('error'));
    $('stop').disabled = false;
  }
});

$('share').addEventListener('click', async () => {
  try {
    const grant = await access.call(`${conversationPath()}/viewer-token`, { method: 'POST' });
    const link = document.createElement('a');
    link.href = new URL(grant.viewer_url, location.origin).href;
    link.textContent = link.href;
    link.target = '_blank';
    link.rel = 'noopener';
    $('share-link').replaceChildren('Read-only link (share it): ', link);
  } catch (err) {
    say(err, $('error'));
  }
});

$('api-key').addEventListener('change', () => {
  access.saveKey();
  access.reset();
  if (conversationId !== undefined) void load();
});

if (access.readOnly) {
  $('composer').remove();
  $('key-row').remove();
  $('new-chat').remove();
  $('mode').hidden = false;
} else {
  $('composer').addEventListener('submit', send);
  // Enter sends, Shift+Enter makes a new line.
  $('message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!$('send').disabled) $('composer').requestSubmit();
    }
  });
}
if (conversationId !== undefined) void load();
else updateComposer();
