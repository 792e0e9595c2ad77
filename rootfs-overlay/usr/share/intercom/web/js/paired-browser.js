// Paired browsers: pairing, rings, notifications.
//
// ?pair=<home ID>#p=<token> (the door's pairing QR) asks "Pair this browser with the door?". The token moves
// from the address bar to this tab's sessionStorage at once (a reload still works) and is dropped once used.
// A paired browser registers under its stable ID while open, takes ring links from its door only, and
// subscribes to Web Push where the browser can (secure page, service worker, PushManager).

import { pairWithDoor, PairingError, RingLink, ringTarget, sendPushSubscription } from './pairing.js';
import { defaultBrowserName, isHomePeerId, PairingStore } from './pairing-store.js';
import { RingPicture } from './ring-picture.js';
import { RingSound } from './ring-sound.js';
import { RoomProof } from './room-proof.js';
import { pushUnavailableReason, registerWorker, subscribe, unsubscribe } from './web-push.js';
import { VisitsPanel } from './visits.js';

const PAIR_TOKEN_KEY = 'intercom.pairToken.';
const PUSH_TIMEOUT_MS = 20000;
const RING_RELINK_GRACE_MS = 2000;

const PAIR_REFUSALS = Object.freeze({
  used: 'This pairing code was already used. Long-press the doorbell for a new one, then scan it again.',
  expired: 'This pairing code has expired. Long-press the doorbell for a new one, then scan it again.',
  proof: 'The door could not verify this browser. Scan the pairing code on the door again.',
  impostor: 'This is not the door you scanned. Nothing was stored.',
  unreachable: 'The door is unreachable. Is this phone on the same network as the door?',
  timeout: 'The door did not answer. Is this phone on the same network as the door?',
  lost: 'The door stopped answering (its network or power may be down). Try again when it is back.',
  closed: 'The door closed the connection without pairing. Scan the pairing code again.',
});

export class PairedBrowser {
  #app;
  #store = new PairingStore();
  #pairing = this.#store.pairing(); // {id, door, home, credential, peerId} once paired, else null
  #pairLink; // {home, token} from ?pair=<home>#p=<token> until it paired, or null
  #ringLink = null; // the RingLink whose ring the ringing dialog shows
  #ringSound = new RingSound();
  #ringPicture;
  #ringExpiry = 0;
  #visitRing = null; // the ring of a visit someone else answered, while the dialog offers Join
  #visits = null; // the door's visit list (visits.js)

  constructor(app) {
    this.#app = app;
    this.#ringPicture = new RingPicture(app.ui['ringing-picture']);
    this.#pairLink = readPairLink(app.pageUrl);
  }

  get pairing() {
    return this.#pairing;
  }

  get pairLink() {
    return this.#pairLink;
  }

  stablePeerId(roomPrefix) {
    return this.#store.stablePeerId(roomPrefix);
  }

  /** True while the ringing dialog shows a live ring (or a visit to join). */
  get ringing() {
    return this.#ringLink !== null || this.#visitRing !== null;
  }

  /** The page is going away. */
  close() {
    this.#ringLink?.close();
    this.#visits?.close();
  }

  setUp() {
    const { ui, page } = this.#app;
    this.#visits = new VisitsPanel(this.#app, () => this.#pairing);
    ui.unpair.addEventListener('click', () => this.#unpair());
    ui['ring-answer'].addEventListener('click', () => this.#answerRing());
    ui['ring-ignore'].addEventListener('click', () => this.#ignoreRing());
    ui.ringing.addEventListener('cancel', (event) => {
      event.preventDefault();
      this.#ignoreRing();
    });
    this.#showPaired();
    const pairLink = this.#pairLink;
    if (!pairLink) return;
    document.body.dataset.role = 'pair';
    page.note('pairing', 'asking');
    ui['pair-name'].value = defaultBrowserName();
    ui.pair.disabled = true; // until signaling is open
    if (!isHomePeerId(pairLink.home) || !pairLink.token) {
      this.#pairFailed('invalid', 'This pairing link is not complete. Scan the pairing code on the door again.');
      ui['pair-form'].hidden = true;
      return;
    }
    if (this.#pairing?.home === pairLink.home) {
      ui['pair-title'].textContent = `This browser is already paired with ${this.#pairing.door}. Pair it again?`;
    }
    ui['pair-form'].addEventListener('submit', (event) => {
      event.preventDefault();
      // Browsers ask for notification permission only inside a tap: ask now, use the answer after pairing.
      const permission = pushUnavailableReason() === null ? Notification.requestPermission() : null;
      permission?.catch(() => {});
      this.#pairThisBrowser(permission);
    });
  }

  /** A ring OFFER from our door (pairing.js `isRingOffer`). */
  acceptRing(from, src, payload) {
    let link;
    try {
      link = new RingLink({ wire: from, pairing: this.#pairing, offer: { src, payload },
        iceServers: this.#app.signaling.config.iceServers });
    } catch (error) {
      console.warn('intercom: unusable ring offer dropped', error);
      return;
    }
    link.addEventListener('ring', ({ detail }) => this.#onRing(link, detail));
    link.addEventListener('over', ({ detail }) => this.#onRingOver(link, detail.reason));
    link.addEventListener('picture', ({ detail }) => {
      if (this.#ringPicture.add(link, detail)) this.#setRing({ ...this.#app.hooks.ring, picture: true });
    });
    // A ring link that closes without ring-over: the door rang again (a new link follows at once) or went away.
    link.addEventListener('ended', ({ detail }) => {
      if (this.#ringLink !== link) return;
      if (detail?.reason === 'connection-lost') {
        this.#onDoorLost(link);
        return;
      }
      clearTimeout(this.#ringExpiry);
      this.#ringExpiry = setTimeout(() => {
        if (this.#ringLink === link) this.#onRingOver(link, 'missed');
      }, RING_RELINK_GRACE_MS);
    });
    link.answer();
  }

  async #pairThisBrowser(permission) {
    const { ui, page, signaling } = this.#app;
    if (ui.pair.disabled || !this.#pairLink) return;
    const wire = await signaling.connect().catch(() => null);
    if (!wire) return;
    let peerId;
    try {
      peerId = this.#store.stablePeerId(signaling.config.roomPrefix);
    } catch (error) {
      this.#pairFailed('error', `This browser cannot be paired: ${error.message}.`);
      return;
    }
    if (wire.id !== peerId) {
      // The door rings the ID the pairing came from, so it must be this browser's stable one.
      this.#pairFailed('other-tab', 'This browser has the door\'s page open in another tab: close it, then reload this page.');
      ui.pair.disabled = false;
      return;
    }
    const name = ui['pair-name'].value.trim().slice(0, 60) || defaultBrowserName();
    ui.pair.disabled = true;
    ui['pair-name'].disabled = true;
    ui['pair-result'].className = 'pair-result';
    ui['pair-result'].textContent = 'Pairing…';
    page.note('pairing', 'pairing');
    page.say('Pairing with the door…');
    const { home, token } = this.#pairLink;
    let result;
    try {
      result = await pairWithDoor({ wire, home, token, name, peerId, iceServers: signaling.config.iceServers });
    } catch (error) {
      const reason = error instanceof PairingError ? error.reason : 'error';
      // The token is spent (or was never good) unless the door could not be reached.
      if (!['unreachable', 'timeout', 'lost'].includes(reason)) forgetPairToken(home);
      this.#pairFailed(reason, PAIR_REFUSALS[reason] ?? `The door refused the pairing (${reason}).`);
      return;
    }
    forgetPairToken(home);
    this.#pairLink = null;
    this.#pairing = result.pairing;
    this.#store.save(this.#pairing);
    page.note('pairing', 'paired');
    // The pairing link has done its work: the page becomes the ordinary one, registered under the stable ID.
    history.replaceState(history.state, '', window.location.pathname);
    document.body.dataset.role = '';
    ui['push-note'].textContent = 'Turning on notifications…';
    this.#showPaired();
    page.set('ready', `Paired with ${this.#pairing.door}.`);
    await this.#sendSubscription(result, permission);
    result.connection.close();
  }

  #pairFailed(reason, text) {
    const { ui, page } = this.#app;
    page.note('pairing', 'refused');
    page.note('pairRefusal', reason);
    ui['pair-result'].className = 'pair-result refused';
    ui['pair-result'].textContent = text;
    ui['pair-name'].disabled = false;
    // A spent or broken link cannot be tried again; an unreachable door can.
    ui.pair.disabled = !['unreachable', 'timeout', 'lost'].includes(reason);
    page.say('Not paired.');
  }

  /** Subscribes to Web Push with the door's key and sends the subscription on the pairing connection. */
  async #sendSubscription({ vapidPublicKey, connection }, permission) {
    const { ui, page } = this.#app;
    const unavailable = pushUnavailableReason();
    let note;
    if (unavailable) {
      note = unavailable;
      page.note('push', 'unavailable');
    } else if (!vapidPublicKey) {
      note = 'Open this page to be rung: the door does not send notifications.';
      page.note('push', 'off');
    } else {
      try {
        const subscription = await Promise.race([
          subscribe(vapidPublicKey, permission ?? Notification.requestPermission()),
          new Promise((_, reject) => setTimeout(() => reject(new Error('the notification setup took too long')), PUSH_TIMEOUT_MS)),
        ]);
        const sent = sendPushSubscription(connection, subscription);
        note = sent
          ? 'Notifications are on: this browser rings even when this page is closed.'
          : 'Open this page to be rung: the notification setup did not reach the door.';
        page.note('push', sent ? 'subscribed' : 'failed');
      } catch (error) {
        note = `Open this page to be rung: ${error.message}.`;
        page.note('push', 'failed');
      }
    }
    ui['push-note'].textContent = note;
  }

  #showPaired() {
    const { ui, page } = this.#app;
    const pairing = this.#pairing;
    page.note('paired', pairing !== null);
    page.note('pairedDoor', pairing?.door ?? null);
    ui['paired-panel'].hidden = pairing === null;
    if (!pairing) return;
    ui['paired-text'].textContent = `Paired with ${pairing.door} — this browser rings when someone is at the door`;
    if (ui['push-note'].textContent === '') this.#describePush();
  }

  async #describePush() {
    const { ui, page } = this.#app;
    const unavailable = pushUnavailableReason();
    if (unavailable) {
      ui['push-note'].textContent = unavailable;
      page.note('push', 'unavailable');
      return;
    }
    try {
      const registration = await registerWorker();
      const subscribed = (await registration.pushManager.getSubscription()) !== null;
      page.note('push', subscribed ? 'subscribed' : 'off');
      if (ui['push-note'].textContent === '') {
        ui['push-note'].textContent = subscribed
          ? 'Notifications are on: this browser rings even when this page is closed.'
          : 'Open this page to be rung: notifications are off (pair again to turn them on).';
      }
    } catch (error) {
      page.note('push', 'unavailable');
      ui['push-note'].textContent = `Open this page to be rung: notifications are unavailable (${error.message}).`;
    }
  }

  async #unpair() {
    const { ui, page, signaling, hosting } = this.#app;
    if (!this.#pairing) return;
    const door = this.#pairing.door;
    this.#store.forget();
    this.#pairing = null;
    this.#ringLink?.close();
    this.#closeRinging();
    ui['push-note'].textContent = '';
    this.#showPaired();
    page.say(`This browser no longer rings for ${door}.`);
    // Leave the stable ID: an unpaired browser is reachable only under a random one.
    if (signaling.stableId !== null && !page.inCall && !hosting.code) {
      signaling.drop();
      signaling.connect().catch(() => {});
    }
    await unsubscribe().catch((error) => console.warn('intercom: push unsubscribe failed', error));
  }

  #onRing(link, ring) {
    const { ui, page, offers } = this.#app;
    // Busy here (a call, another live ring, the incoming-call dialog): the door rings the others.
    const other = this.#ringLink;
    if (page.inCall || offers.incoming || (other && other !== link && !other.connection.ended)) {
      link.close();
      return;
    }
    this.#ringLink = link;
    this.#visitRing = null; // a new ring replaces an offer to join the last one
    ui['ring-answer'].textContent = 'Answer';
    ui['ring-ignore'].textContent = 'Ignore';
    const picture = this.#ringPicture.show(link);
    this.#setRing({ state: 'ringing', door: ring.door, code: ring.code, expiresAt: ring.expiresAt, picture });
    ui['ringing-title'].textContent = `${ring.door} is ringing`;
    ui['ringing-info'].textContent = `Room ${ring.code}`;
    if (!ui.ringing.open) ui.ringing.showModal();
    ui['ring-answer'].focus();
    page.say(`${ring.door} is ringing`);
    this.#ringSound.start().then((sound) => page.note('ringSound', sound));
    clearTimeout(this.#ringExpiry);
    this.#ringExpiry = setTimeout(() => {
      if (this.#ringLink === link) this.#onRingOver(link, 'missed');
    }, Math.max(0, ring.expiresAt - Date.now()));
  }

  #onRingOver(link, reason) {
    if (this.#ringLink !== link) return;
    const { page, hooks } = this.#app;
    const ring = link.ring;
    this.#closeRinging();
    link.close();
    this.#setRing({ ...hooks.ring, state: reason });
    if (reason === 'in-visit' && ring && !page.inCall) {
      this.#offerJoin(ring);
      return;
    }
    if (!page.inCall) page.say(reason === 'answered-elsewhere' ? 'Answered elsewhere' : 'Missed ring');
  }

  /** Someone in the household answered: the dialog offers Join (docs/household.md); Join places the same
   * call Answer would, and the door adds this phone to the visit. */
  #offerJoin(ring) {
    const { ui, page } = this.#app;
    this.#visitRing = ring;
    ui['ringing-title'].textContent = `${ring.door}: someone answered`;
    ui['ringing-info'].textContent = 'Join to see and talk to the visitor too.';
    ui['ring-answer'].textContent = 'Join';
    ui['ring-ignore'].textContent = 'Not now';
    if (!ui.ringing.open) ui.ringing.showModal();
    ui['ring-answer'].focus();
    page.say(`${ring.door}: in a visit — join?`);
  }

  /** The door went silent while ringing (liveness.js): say so; its next ring opens a new link. */
  #onDoorLost(link) {
    const { page, hooks } = this.#app;
    this.#closeRinging();
    this.#setRing({ ...hooks.ring, state: 'door-lost' });
    if (!page.inCall) {
      page.say(`${link.ring?.door ?? 'The door'} stopped answering (its network or power may be down). ` +
        'This browser rings again when it is back.');
    }
  }

  #closeRinging() {
    const { ui } = this.#app;
    clearTimeout(this.#ringExpiry);
    this.#ringSound.stop();
    this.#ringPicture.clear();
    this.#ringLink = null;
    this.#visitRing = null;
    ui['ring-answer'].textContent = 'Answer';
    ui['ring-ignore'].textContent = 'Ignore';
    if (ui.ringing.open) ui.ringing.close();
  }

  #setRing(ring) {
    this.#app.page.note('ring', ring);
  }

  async #answerRing() {
    const { page, hooks, signaling, calls } = this.#app;
    const link = this.#ringLink;
    const joining = this.#visitRing !== null;
    const ring = link?.ring ?? this.#visitRing;
    if (!ring) return;
    this.#closeRinging();
    this.#setRing({ ...hooks.ring, state: joining ? 'joined' : 'answered' });
    link?.close();
    const target = ringTarget(ring.link);
    const proof = target ? await RoomProof.fromSecretText(target.secret) : null;
    if (!proof) {
      page.fail('The ring carried no usable link.');
      return;
    }
    // The ring's join link carries this ring's TURN credential too (a page hosted away from the door).
    signaling.useTURN(target.turn);
    await calls.place(target.code, 'video', proof);
  }

  #ignoreRing() {
    const link = this.#ringLink;
    if (!link && !this.#visitRing) return;
    this.#closeRinging();
    link?.close();
    this.#setRing({ ...this.#app.hooks.ring, state: 'ignored' });
    this.#app.page.say('Ring ignored.');
  }
}

function readPairLink(pageUrl) {
  const home = pageUrl.searchParams.get('pair');
  if (home === null) return null;
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  let token = fragment.get('p');
  if (token !== null) {
    try { sessionStorage.setItem(PAIR_TOKEN_KEY + home, token); } catch { /* private mode: this load works */ }
    history.replaceState(history.state, '', window.location.pathname + window.location.search);
  } else {
    try { token = sessionStorage.getItem(PAIR_TOKEN_KEY + home); } catch { token = null; }
  }
  return { home, token };
}

function forgetPairToken(home) {
  try { sessionStorage.removeItem(PAIR_TOKEN_KEY + home); } catch { /* nothing stored */ }
}
