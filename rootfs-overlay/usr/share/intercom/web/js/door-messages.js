// Messages from the door outside a call: the door opens a PeerJS data connection to this page
// (`intercom ctl connect <page peer ID>`) and sends {t: 'chat', text}; they appear in the
// "Messages from the door" panel, and what is typed there goes back over the same connection.
//
// Only the door's home ID (`<roomPrefix>home-…`) is listened to here; data connections from
// other peers are still accepted (as PeerJS does) but what they send outside a call is ignored.

export class DoorMessages {
  #ui;
  #hooks;
  #isDoor;
  #replyTo = null; // the DataConnection the last message came over

  /** ui: {panel, log, form, input, note}; isDoor(remoteId) says whose messages are shown. */
  constructor(ui, hooks, isDoor) {
    this.#ui = ui;
    this.#hooks = hooks;
    this.#isDoor = isDoor;
    hooks.doorMessages = 0;
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#reply();
    });
  }

  /** A value from `conn` that no call's chat took; true when it was shown. */
  receive(conn, received) {
    if (!this.#isDoor(conn.remoteId)) return false;
    const value = conn.serialization === 'raw' ? parseRaw(received) : received;
    if (value === null || typeof value !== 'object' || value.t !== 'chat' || typeof value.text !== 'string') return false;
    const text = value.text.trim();
    if (text === '') return false;
    this.#replyTo = conn;
    this.#append('them', text);
    this.#hooks.doorMessages += 1;
    this.#ui.note.textContent = '';
    this.#ui.panel.hidden = false;
    return true;
  }

  /** The connection replies went over has ended; reason 'connection-lost': the door went silent (liveness.js). */
  ended(conn, reason = null) {
    if (this.#replyTo !== conn) return;
    this.#replyTo = null;
    this.#ui.note.textContent = reason === 'connection-lost'
      ? 'The door stopped answering (its network or power may be down).'
      : 'The door closed the conversation.';
  }

  #reply() {
    const text = this.#ui.input.value.trim().slice(0, 1000);
    if (!text) return;
    const conn = this.#replyTo;
    const message = { t: 'chat', text };
    if (!conn || !conn.send(conn.serialization === 'raw' ? JSON.stringify(message) : message)) {
      this.#ui.note.textContent = 'Not sent: the door is not connected.';
      return;
    }
    this.#append('me', text);
    this.#ui.input.value = '';
  }

  #append(from, text) {
    const item = document.createElement('li');
    item.className = `message ${from}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = from === 'me' ? 'You' : 'Door';
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(who, body);
    this.#ui.log.append(item);
    this.#ui.log.scrollTop = this.#ui.log.scrollHeight;
  }
}

// On a raw connection a message is its map's JSON text (the door's convention for chat on raw).
function parseRaw(value) {
  if (typeof value !== 'string') return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}
