// The ring picture in the ringing dialog: the door's camera at the press, sent by the door on the ring link
// as {t:'picture', id, type, part, parts, data} messages (base64 pieces of one JPEG) right after the ring.
// Pieces are put together in order; the picture shows once all came, and only with the ring of its link
// (the ring's proof is checked asynchronously, so its pieces may complete before the dialog opens).

const MAX_PARTS = 64; // 64 × 16 KB of base64: far above a door's JPEG, and a bound on what a link may make us hold
const TYPES = new Set(['image/jpeg', 'image/png']);

export class RingPicture {
  #img;
  #shown = null; // the link whose ring the dialog shows
  #collecting = null; // {link, id, type, parts}
  #ready = null; // {link, url}

  /** @param {HTMLImageElement} img where the picture shows (hidden while there is none) */
  constructor(img) {
    this.#img = img;
  }

  /** The dialog now shows `link`'s ring: its picture shows when it is (or once it gets) complete. Returns
   * whether it shows now. */
  show(link) {
    this.#shown = link;
    return this.#display();
  }

  /** One picture message from `link`. Returns true when the dialog now shows the completed picture. */
  add(link, message) {
    if (!message || typeof message.data !== 'string') return false;
    const { id, part, parts, type } = message;
    if (typeof id !== 'string' || !TYPES.has(type) || !Number.isInteger(parts) || parts < 1 || parts > MAX_PARTS ||
        !Number.isInteger(part) || part < 0 || part >= parts) return false;
    if (this.#collecting?.link !== link || this.#collecting.id !== id) {
      this.#collecting = { link, id, type, parts: new Array(parts).fill(null) };
    }
    const collecting = this.#collecting;
    if (collecting.parts.length !== parts) return false;
    collecting.parts[part] = message.data;
    if (collecting.parts.some((piece) => piece === null)) return false;
    this.#collecting = null;
    const data = collecting.parts.join('');
    // A data: URL, which the page's Content-Security-Policy allows for images (blob: it does not).
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
      console.warn('intercom: a ring picture that is not base64 was dropped');
      return false;
    }
    this.#ready = { link, url: `data:${collecting.type};base64,${data}` };
    return this.#display();
  }

  /** The dialog closed: no picture, nothing held. */
  clear() {
    this.#shown = null;
    this.#collecting = null;
    this.#ready = null;
    this.#display();
  }

  #display() {
    const showing = this.#ready !== null && this.#ready.link === this.#shown;
    if (showing) {
      this.#img.src = this.#ready.url;
    } else {
      this.#img.removeAttribute('src');
    }
    this.#img.hidden = !showing;
    return showing;
  }
}
