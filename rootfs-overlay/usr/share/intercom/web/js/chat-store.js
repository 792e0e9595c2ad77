// Chat messages kept in localStorage, one list per room, so they are still there after a reload.
// Each entry: {from: 'me' | 'them' | 'status', text, at: ms since 1970}.

const KEY_PREFIX = 'intercom.chat.';
export const MAX_MESSAGES = 200;
export const MAX_TEXT_CHARS = 2000;

export class ChatStore {
  #key;
  #storage;

  /** room: the room code (or the remote peer ID for a call outside a room). */
  constructor(room, storage = globalThis.localStorage) {
    this.#key = KEY_PREFIX + room;
    this.#storage = storage;
  }

  /** The stored messages, oldest first; [] when there are none or storage is unavailable. */
  load() {
    try {
      const list = JSON.parse(this.#storage?.getItem(this.#key) ?? '[]');
      return Array.isArray(list) ? list.filter(isEntry) : [];
    } catch {
      return [];
    }
  }

  /** Appends one message (trimmed to the newest MAX_MESSAGES) and returns the entry. */
  append(from, text) {
    const entry = { from, text: String(text).slice(0, MAX_TEXT_CHARS), at: Date.now() };
    const list = [...this.load(), entry].slice(-MAX_MESSAGES);
    try {
      this.#storage?.setItem(this.#key, JSON.stringify(list));
    } catch {
      // Private mode or full storage: the message is still shown, just not kept.
    }
    return entry;
  }
}

function isEntry(entry) {
  return entry !== null && typeof entry === 'object' && typeof entry.text === 'string' &&
    ['me', 'them', 'status'].includes(entry.from) && Number.isFinite(entry.at);
}
