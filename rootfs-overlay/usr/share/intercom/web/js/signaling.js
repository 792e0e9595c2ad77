// The page's config and its one PeerJSWire at a time: a random ID from the server, this browser's stable ID
// while it is paired with a door (or pairing), or `intercom-<code>` while this page hosts a room (the same
// peer-ID scheme as the door, so a browser can be "a door" too).

import { loadConfig } from './config.js';
import { setSilenceLimit } from './liveness.js';
import { setConnectTimeout } from './peer-link.js';
import { PeerJSWire } from './peerjs-wire.js';
import { applyRoomTURN } from './room-turn.js';

const STABLE_ID_ATTEMPTS = 3;
const STABLE_ID_RETRY_MS = 1000;

export class Signaling {
  #app;
  #config = null;
  #configIceServers = []; // config.json's iceServers before a room link's TURN credential is applied
  #wire = null; // the open (or reconnecting) PeerJSWire, or null
  #opening = null; // its open() in flight
  #stableId = null; // this browser's stable peer ID, while paired or pairing

  /** app: the page's parts (app.js); offers go to app.offers, a lost room to app.hosting. */
  constructor(app) {
    this.#app = app;
  }

  get config() {
    return this.#config;
  }

  get wire() {
    return this.#wire;
  }

  get stableId() {
    return this.#stableId;
  }

  /** The config, loaded once; null (and the page says why) when it cannot be. */
  async ensureConfig() {
    if (this.#config) return this.#config;
    try {
      const loaded = await loadConfig(this.#app.pageUrl);
      this.#configIceServers = loaded.iceServers;
      // TURN servers listed without credentials take the room link's (a page hosted away from the door).
      this.#config = Object.freeze({ ...loaded, iceServers: applyRoomTURN(this.#configIceServers, this.#app.link.turn) });
      setConnectTimeout(this.#config.iceTimeoutSeconds * 1000);
      setSilenceLimit(this.#config.lostAfterSeconds * 1000);
    } catch (error) {
      this.#app.page.fail(error.message);
    }
    return this.#config;
  }

  /** A ring's join link carries its own TURN credential (a page hosted away from the door). */
  useTURN(turn) {
    if (!this.#config || !turn) return;
    this.#config = Object.freeze({ ...this.#config, iceServers: applyRoomTURN(this.#configIceServers, turn) });
  }

  setState(state) {
    this.#app.hooks.signaling = state;
    document.body.dataset.signaling = state;
    this.#app.ui['signal-banner'].hidden = state !== 'reconnecting';
  }

  /** Opens a wire (random ID, or `id`) and listens to it; resolves with it once OPEN. */
  open(id = null) {
    const opening = new PeerJSWire(this.#config.signaling, { id });
    opening.addEventListener('offer', (event) => this.#app.offers.route(opening, event.detail));
    opening.addEventListener('disconnected', () => this.#down(opening));
    opening.addEventListener('reconnected', () => this.#up(opening));
    opening.addEventListener('error', (event) => this.#lost(opening, event.detail));
    opening.addEventListener('close', () => this.#lost(opening, null));
    return opening.open().then(() => opening);
  }

  /** The open wire, or the main one (random or stable ID) once it opens. */
  connect() {
    if (this.#wire) return Promise.resolve(this.#wire);
    if (this.#opening) return this.#opening;
    const { page, hooks, ui } = this.#app;
    this.setState('connecting');
    this.#opening = this.#openMain().then(
      (opened) => {
        this.use(opened);
        if (page.state === 'idle' || page.state === 'error') page.set('ready', this.#app.readyText());
        if (this.#app.paired.pairLink && hooks.pairing === 'asking') ui.pair.disabled = false;
        return opened;
      },
      (error) => {
        this.setState('closed');
        page.fail(`Cannot reach the intercom service: ${error.message}`);
        throw error;
      },
    ).finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  use(opened) {
    const old = this.#wire;
    this.#wire = opened;
    this.#app.page.note('peerId', opened.id);
    this.setState('open');
    if (old && old !== opened) old.close();
  }

  /** Closes the wire (leaving a room's or the stable ID); connect() opens a new one. */
  drop() {
    const old = this.#wire;
    this.#wire = null;
    old?.close();
  }

  /**
   * A paired (or pairing) browser registers under its stable ID. The ID can be held for a moment by this very
   * browser's previous page (a reload); held for longer, another tab has it and this one takes a random ID.
   */
  async #openMain() {
    const { page, ui, paired } = this.#app;
    this.#stableId = null;
    if (paired.pairing || paired.pairLink) {
      let id = null;
      try {
        id = paired.stablePeerId(this.#config.roomPrefix);
      } catch (error) {
        page.note('ringable', false);
        ui['push-note'].textContent = `This browser cannot keep its pairing: ${error.message}.`;
      }
      for (let attempt = 1; id && attempt <= STABLE_ID_ATTEMPTS; attempt += 1) {
        try {
          const opened = await this.open(id);
          this.#stableId = id;
          page.note('ringable', true);
          return opened;
        } catch (error) {
          if (error.type !== 'unavailable-id') throw error;
          if (attempt < STABLE_ID_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, STABLE_ID_RETRY_MS));
        }
      }
      if (id) {
        page.note('ringable', false);
        ui['push-note'].textContent = 'This browser is open in another tab too: that tab rings.';
      }
    }
    return this.open();
  }

  #down(lost) {
    if (lost !== this.#wire) return;
    this.setState('reconnecting');
    if (!this.#app.page.inCall) this.#app.page.say('Connection to the server lost — reconnecting…');
  }

  #up(back) {
    if (back !== this.#wire) return;
    const { page } = this.#app;
    this.setState('open');
    if (page.state === 'hosting') page.set('hosting', this.#app.hosting.text());
    else if (page.state === 'ready') page.set('ready', this.#app.readyText());
  }

  // Refused, or gone for good: a call in progress carries on peer to peer.
  #lost(lost, error) {
    if (lost !== this.#wire) return;
    this.#wire = null;
    this.setState('closed');
    this.#app.hosting.forget();
    if (!this.#app.page.inCall) {
      this.#app.page.fail(error?.message ?? 'Lost the connection to the intercom service. Press a button to retry.');
    }
  }
}
