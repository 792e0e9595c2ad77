// Chat over a PeerJS data connection, and the page's data connections.
//
// Messages are BinaryPack maps {t: 'chat', text} (and {t: 'status', …} from the door), the same
// protocol as the device. The caller opens the data connection when the call connects; the
// answerer opens one itself if none arrived within a few seconds (a caller that has no chat).
// Outside a call, what arrives goes to the door's messages panel (door-messages.js).

import { ChatStore, MAX_TEXT_CHARS } from './chat-store.js';
import { DataConnection } from './data-connection.js';

const ANSWERER_CHAT_DELAY_MS = 3000;

export class Chat {
  #app;
  #store = null; // the current call's ChatStore
  #connections = new Map(); // remote peer ID → Set<DataConnection>
  #answererTimer = 0;
  #unread = 0;

  constructor(app) {
    this.#app = app;
    const { ui, hooks } = app;
    ui['chat-toggle'].addEventListener('click', () => this.#toggle());
    ui['chat-form'].addEventListener('submit', (event) => {
      event.preventDefault();
      this.#send();
    });
    // For suites/e2e/test_data_serializations.py: one more data connection to the current call's peer with
    // other options ({serialization, jsonText}), tracked like the chat's own. Not enumerable, so the hooks
    // the tests read back as JSON stay plain data.
    Object.defineProperty(hooks, 'openDataConnection', {
      value: (options) => {
        const call = app.calls.current;
        const from = app.signaling.wire ?? call?.wire;
        if (!from || !call) return null;
        const conn = new DataConnection({ wire: from, remoteId: call.remoteId, iceServers: app.signaling.config.iceServers,
          ...options });
        this.#track(conn);
        conn.start();
        return conn;
      },
    });
  }

  /** The call `active` connected: its chat history, and its data connection. */
  open(active) {
    const { ui, page, calls } = this.#app;
    this.#store = new ChatStore(calls.room ?? active.remoteId);
    renderChat(ui['chat-log'], this.#store.load());
    page.note('chatOpen', this.#openConnection(active.remoteId) !== null);
    this.#updateNote(active.remoteId);
    clearTimeout(this.#answererTimer);
    if (active.isOfferer) {
      this.#connect(active.remoteId);
    } else {
      this.#answererTimer = setTimeout(() => {
        if (calls.current?.remoteId === active.remoteId && !this.#has(active.remoteId)) this.#connect(active.remoteId);
      }, ANSWERER_CHAT_DELAY_MS);
    }
  }

  /** The call with `remoteId` ended: its data connections close. */
  close(remoteId) {
    clearTimeout(this.#answererTimer);
    for (const conn of [...(this.#connections.get(remoteId) ?? [])]) conn.close();
    this.#store = null;
    this.#app.page.note('chatOpen', false);
  }

  /** An incoming data OFFER: accepted at once, as PeerJS does. */
  accept(from, src, payload) {
    let conn;
    try {
      conn = new DataConnection({ wire: from, iceServers: this.#app.signaling.config.iceServers, offer: { src, payload } });
    } catch (error) {
      console.warn('intercom: data connection refused', error);
      return;
    }
    this.#track(conn);
    conn.answer();
  }

  #connect(remoteId) {
    const from = this.#app.signaling.wire ?? this.#app.calls.current?.wire;
    if (!from) return;
    const conn = new DataConnection({
      wire: from,
      remoteId,
      iceServers: this.#app.signaling.config.iceServers,
      reliable: true,
      serialization: 'binary',
      metadata: { purpose: 'chat' },
    });
    this.#track(conn);
    conn.start();
  }

  #track(conn) {
    const set = this.#connections.get(conn.remoteId) ?? new Set();
    set.add(conn);
    this.#connections.set(conn.remoteId, set);
    conn.addEventListener('open', () => {
      if (this.#app.calls.current?.remoteId === conn.remoteId && conn.serialization === 'binary') {
        this.#app.files.opened(conn);
      }
      this.#updateNote(conn.remoteId);
    });
    conn.addEventListener('data', (event) => this.#receive(conn, event.detail));
    conn.addEventListener('ended', ({ detail }) => {
      this.#app.doorMessages.ended(conn, detail.reason);
      set.delete(conn);
      if (set.size === 0) this.#connections.delete(conn.remoteId);
      this.#updateNote(conn.remoteId);
    });
  }

  #has(remoteId) {
    return (this.#connections.get(remoteId)?.size ?? 0) > 0;
  }

  #openConnection(remoteId) {
    for (const conn of this.#connections.get(remoteId) ?? []) if (conn.open) return conn;
    return null;
  }

  #updateNote(remoteId) {
    const { ui, page, calls } = this.#app;
    if (calls.current?.remoteId !== remoteId) return;
    const open = this.#openConnection(remoteId) !== null;
    page.note('chatOpen', open);
    ui['chat-send'].disabled = !open;
    ui['chat-note'].textContent = open ? '' : 'Chat is connecting…';
  }

  #receive(conn, value) {
    const { ui, calls, doorMessages } = this.#app;
    const remoteId = conn.remoteId;
    if (calls.current?.remoteId !== remoteId || !this.#store) {
      doorMessages.receive(conn, value); // outside a call: only the door's messages are shown
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (this.#app.files.receive(conn, value)) return;
    let entry = null;
    if (value.t === 'chat' && typeof value.text === 'string' && value.text.trim() !== '') {
      entry = this.#store.append('them', value.text);
    } else if (value.t === 'status') {
      const text = typeof value.text === 'string' ? value.text : describeStatus(value);
      if (text) entry = this.#store.append('status', text);
    }
    if (!entry) return;
    appendChat(ui['chat-log'], entry);
    this.noteUnseen();
  }

  /** Something new arrived in the chat sheet (a message, a file): counted on the Chat button while it is closed. */
  noteUnseen() {
    const { ui } = this.#app;
    if (!ui.chat.hidden) return;
    this.#unread += 1;
    ui['chat-unread'].textContent = String(this.#unread);
    ui['chat-unread'].hidden = false;
  }

  /** An open data connection to `remoteId` with that serialization ('binary': BinaryPack), or null. */
  connectionTo(remoteId, serialization) {
    for (const conn of this.#connections.get(remoteId) ?? []) if (conn.open && conn.serialization === serialization) return conn;
    return null;
  }

  #send() {
    const { ui, calls } = this.#app;
    const text = ui['chat-input'].value.trim().slice(0, MAX_TEXT_CHARS);
    const call = calls.current;
    if (!text || !call || !this.#store) return;
    const conn = this.#openConnection(call.remoteId);
    if (!conn || !conn.send({ t: 'chat', text })) {
      ui['chat-note'].textContent = 'Not sent: chat is not connected.';
      return;
    }
    appendChat(ui['chat-log'], this.#store.append('me', text));
    ui['chat-input'].value = '';
  }

  #toggle() {
    const { ui } = this.#app;
    const show = ui.chat.hidden;
    ui.chat.hidden = !show;
    ui['chat-toggle'].setAttribute('aria-expanded', String(show));
    document.body.classList.toggle('chat-open', show);
    if (show) {
      this.#unread = 0;
      ui['chat-unread'].hidden = true;
      ui['chat-input'].focus();
    }
  }
}

function describeStatus(value) {
  const parts = Object.entries(value)
    .filter(([key, item]) => key !== 't' && ['string', 'number', 'boolean'].includes(typeof item))
    .map(([key, item]) => `${key}: ${item}`);
  return parts.length ? `Status — ${parts.join(', ')}` : '';
}

export function renderChat(list, entries) {
  list.replaceChildren();
  for (const entry of entries) appendChat(list, entry);
}

function appendChat(list, entry) {
  const item = document.createElement('li');
  item.className = `message ${entry.from}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = entry.from === 'me' ? 'You' : entry.from === 'them' ? 'Them' : 'Status';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = entry.text;
  const time = document.createElement('time');
  time.dateTime = new Date(entry.at).toISOString();
  time.textContent = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  item.append(who, text, time);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}
