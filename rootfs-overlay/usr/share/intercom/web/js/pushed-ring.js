// A ring the page learns of from a Web Push notification: sw.js opens the ring's join link with
// ?ring=<picture id>. A paired browser then shows the ringing dialog at once and asks the door for that ring's
// picture over a data connection to the door's home ID that the pairing credential proves (docs/ring-picture.md).
// Answer joins the room of the link; Ignore leaves the page as the link opened it.
//
// Wire (JSON, label 'ring-picture'): page → {t:'hello', id, proof} then {t:'picture', id}; door → the picture's
// pieces {t:'picture', id, type, part, parts, data}, as on a ring link, or {t:'error', id, code}. A page that
// cannot prove its pairing has the connection closed on it and gets nothing.

import { DataConnection } from './data-connection.js';
import { connectionFingerprints, pairingMac } from './pairing-proof.js';
import { RingPicture } from './ring-picture.js';

const PICTURE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const FETCH_TIMEOUT_MS = 20000;

function fingerprintsOf(conn) {
  const local = conn.pc?.localDescription?.sdp;
  const remote = conn.pc?.remoteDescription?.sdp;
  return conn.isOfferer ? connectionFingerprints(local, remote) : connectionFingerprints(remote, local);
}

export class PushedRing {
  #app;
  #id; // the ring picture's id from ?ring=, or null
  #picture;
  #conn = null;
  #active = false; // the dialog shows this ring
  #timer = 0;

  constructor(app) {
    this.#app = app;
    const id = app.pageUrl.searchParams.get('ring');
    this.#id = id !== null && PICTURE_ID.test(id) ? id : null;
    this.#picture = new RingPicture(app.ui['ringing-picture']);
  }

  /** Opens the ringing dialog when a paired browser was opened from a push with a join link. */
  setUp() {
    const { ui, link, paired } = this.#app;
    const pairing = paired.pairing;
    if (!this.#id || !pairing || !link.room) return;
    this.#active = true;
    ui['ring-answer'].addEventListener('click', () => this.#answer());
    ui['ring-ignore'].addEventListener('click', () => this.#close('ignored', 'Ring ignored.'));
    ui.ringing.addEventListener('cancel', () => this.#close('ignored', 'Ring ignored.'));
    ui['ringing-title'].textContent = `${pairing.door} is ringing`;
    ui['ringing-info'].textContent = `Room ${link.room}`;
    this.#note({ state: 'asking', id: this.#id, picture: false, messages: 0, characters: 0 });
    if (!ui.ringing.open) ui.ringing.showModal();
  }

  /** Asks the door for the picture, once signaling is up. */
  async fetch() {
    if (!this.#active) return;
    const { signaling } = this.#app;
    const wire = await signaling.connect().catch(() => null);
    const pairing = this.#app.paired.pairing;
    if (!this.#live() || !wire || !pairing) return;
    const conn = new DataConnection({
      wire, remoteId: pairing.home, iceServers: signaling.config.iceServers, label: 'ring-picture',
      reliable: true, serialization: 'json', metadata: { intercom: 'ring-picture' },
    });
    this.#conn = conn;
    this.#picture.show(conn); // the picture shows once all its pieces came on this connection
    conn.addEventListener('open', async () => {
      const fingerprints = fingerprintsOf(conn);
      if (!fingerprints) return this.#end(conn, 'failed');
      const proof = await pairingMac('hello', pairing.credential, fingerprints, 'ring-picture');
      conn.send({ t: 'hello', id: pairing.id, proof });
      conn.send({ t: 'picture', id: this.#id });
    });
    conn.addEventListener('data', ({ detail }) => this.#onMessage(conn, detail));
    // Closed before a picture or an answer came: the door did not take the hello (not, or no longer, paired).
    conn.addEventListener('ended', () => this.#end(conn, 'refused'));
    this.#timer = setTimeout(() => this.#end(conn, 'failed'), FETCH_TIMEOUT_MS);
    conn.start();
  }

  #onMessage(conn, message) {
    if (conn !== this.#conn || message === null || typeof message !== 'object') return;
    const hooks = this.#app.hooks.pushedRing;
    this.#note({ messages: hooks.messages + 1,
      characters: hooks.characters + (typeof message.data === 'string' ? message.data.length : 0) });
    if (message.t === 'error' && message.id === this.#id) {
      this.#end(conn, message.code === 'notFound' ? 'notFound' : 'failed');
    } else if (message.t === 'picture' && message.id === this.#id && this.#live()) {
      if (!this.#picture.add(conn, message)) return;
      this.#note({ picture: true });
      this.#end(conn, 'shown');
    }
  }

  /** The request is over: `state` says how (a later end of the same connection changes nothing). */
  #end(conn, state) {
    if (conn !== this.#conn) return;
    this.#conn = null;
    clearTimeout(this.#timer);
    conn.close();
    if (this.#app.hooks.pushedRing?.state === 'asking') this.#note({ state });
    if (state === 'refused') this.#app.page.say('The door did not send the ring\'s picture (is this browser still paired?).');
  }

  /** Whether the dialog still shows this ring (a ring on an open ring link takes it over). */
  #live() {
    if (this.#active && this.#app.paired.ringing) this.#active = false;
    return this.#active;
  }

  #answer() {
    if (!this.#live()) return;
    this.#close('answered', null);
    this.#app.calls.join('video');
  }

  #close(state, text) {
    if (!this.#live()) return;
    this.#active = false;
    if (this.#conn) this.#end(this.#conn, 'closed');
    this.#picture.clear();
    if (this.#app.ui.ringing.open) this.#app.ui.ringing.close();
    this.#note({ state });
    if (text) this.#app.page.say(text);
  }

  /** What the tests read (window.intercomTest.pushedRing). */
  #note(fields) {
    const { hooks } = this.#app;
    hooks.pushedRing = { ...(hooks.pushedRing ?? {}), ...fields };
  }
}
