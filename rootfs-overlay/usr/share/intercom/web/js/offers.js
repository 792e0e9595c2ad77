// Incoming OFFERs: who may reach this page, and the incoming-call dialog (Answer, Answer with audio only,
// Decline; unanswered calls are declined after a while).

import { Call } from './call.js';
import { isRingOffer } from './pairing.js';

const RING_TIMEOUT_MS = 45000;

export class Offers {
  #app;
  #incoming = null; // a Call waiting in the incoming-call dialog
  #ringTimer = 0;

  constructor(app) {
    this.#app = app;
    const { ui } = app;
    ui.answer.addEventListener('click', () => this.answer('video'));
    ui['answer-audio'].addEventListener('click', () => this.answer('audio'));
    ui.decline.addEventListener('click', () => this.decline());
    // Escape must not silently drop a ringing call: it declines, as the button says.
    ui.incoming.addEventListener('cancel', (event) => {
      event.preventDefault();
      this.decline();
    });
  }

  /** The Call in the incoming-call dialog, or null. */
  get incoming() {
    return this.#incoming;
  }

  /** An OFFER that arrived on `from` (a PeerJSWire). */
  route(from, { src, payload }) {
    const { signaling, calls, paired, chat, page, hooks } = this.#app;
    // Under the stable ID only our door gets in — its rings, and its calls (`intercom ctl call`) — and what the
    // peer of this page's call adds to it (its chat, a call replacing a watch-only one).
    if (signaling.stableId !== null && from.id === signaling.stableId) {
      const call = calls.current;
      const fromCallPeer = call && !call.ended && call.remoteId === src;
      if (isRingOffer(paired.pairing, src, payload)) {
        paired.acceptRing(from, src, payload);
      } else if (paired.pairing && src === paired.pairing.home && payload?.type === 'media') {
        this.#offerCall(from, src, payload);
      } else if (fromCallPeer && payload?.type === 'data') {
        chat.accept(from, src, payload);
      } else if (fromCallPeer && payload?.type === 'media' && payload.metadata?.replaces === call.connectionId) {
        try {
          calls.answerReplacement(new Call({ wire: from, iceServers: signaling.config.iceServers, offer: { src, payload } }));
        } catch (error) {
          console.warn('intercom: unusable media offer dropped', error);
        }
      } else {
        page.note('ignoredOffers', (hooks.ignoredOffers ?? 0) + 1);
      }
      return;
    }
    if (payload?.type === 'data') {
      chat.accept(from, src, payload);
      return;
    }
    this.#offerCall(from, src, payload);
  }

  /** Declines what the dialog shows. */
  decline(text = 'You declined the call.') {
    const offered = this.#incoming;
    if (!offered) return;
    this.#close();
    offered.decline('declined');
    this.#app.page.endCall('local', text, 'declined', this.#app.idleState());
  }

  async answer(mode) {
    const offered = this.#incoming;
    if (!offered) return;
    this.#close();
    await this.#app.calls.answer(offered, mode);
  }

  /** A media OFFER: the incoming-call dialog, a replacing call, or busy. */
  #offerCall(from, src, payload) {
    if (payload?.type !== 'media' || typeof payload.connectionId !== 'string') return;
    const { calls, signaling, page } = this.#app;
    let offered;
    try {
      offered = new Call({ wire: from, iceServers: signaling.config.iceServers, offer: { src, payload } });
    } catch (error) {
      console.warn('intercom: unusable media offer dropped', error);
      return;
    }
    const call = calls.current;
    const replaces = payload.metadata?.replaces;
    if (call && !call.ended && call.remoteId === src && replaces === call.connectionId) {
      calls.answerReplacement(offered);
    } else if (call || this.#incoming || page.state === 'calling') {
      offered.decline('busy');
    } else {
      this.#show(offered);
    }
  }

  #show(offered) {
    const { page, ui, hosting } = this.#app;
    this.#incoming = offered;
    page.startCall('incoming', hosting.code ? `Incoming call to room ${hosting.code}` : 'Incoming call');
    page.note('remoteId', offered.remoteId);
    ui['incoming-from'].textContent = `From ${this.#describeCaller(offered)}`;
    offered.addEventListener('ended', ({ detail }) => {
      if (this.#incoming !== offered) return;
      this.#close();
      // The caller gave up (or the offer was unusable) before anyone answered.
      page.endCall('remote', detail.reason === 'error' ? 'The incoming call failed.' : 'Missed call.', detail.reason,
        this.#app.idleState());
    });
    this.#ringTimer = setTimeout(() => {
      if (this.#incoming === offered) this.decline('No answer: the call was not taken.');
    }, RING_TIMEOUT_MS);
    if (!ui.incoming.open) ui.incoming.showModal();
    ui.answer.focus();
  }

  #describeCaller(offered) {
    const name = offered.metadata?.name;
    if (typeof name === 'string' && name.trim() !== '') return name.trim().slice(0, 60);
    const code = this.#app.hosting.code;
    if (code) return `someone with your room code ${code}`;
    return offered.remoteId.startsWith(this.#app.signaling.config.roomPrefix) ? 'the door' : 'another browser';
  }

  #close() {
    clearTimeout(this.#ringTimer);
    this.#incoming = null;
    if (this.#app.ui.incoming.open) this.#app.ui.incoming.close();
  }
}
