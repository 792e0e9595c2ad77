// The page's side of paired browsers (docs/pairing.md; the device side is the pairing code in
// Sources/IntercomCLI): pairing over a data connection to the door's home ID, and the ring links the door opens
// to a paired browser's stable ID. Both are PeerJS data connections with serialization json whose messages
// carry MACs over the DTLS fingerprints of the connection's offer and answer (pairing-proof.js).

import { DataConnection } from './data-connection.js';
import { connectionFingerprints, pairingMac, pairingMacHolds } from './pairing-proof.js';
import { parseRoomCode } from './room-code.js';
import { parseRoomTURN } from './room-turn.js';

const PAIR_TIMEOUT_MS = 20000;
const HELLO_TIMEOUT_MS = 10000;
const MAX_DOOR_NAME = 60;

/** reason: used | expired | proof (the door refused us) | impostor (its reply did not prove the token) |
 *  unreachable | timeout | lost (the door went silent, liveness.js) | closed | error, or another reason
 *  word the door sent. */
export class PairingError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'PairingError';
    this.reason = reason;
  }
}

/** The fingerprints of `conn`'s offer and answer, whichever side made them. */
function fingerprintsOf(conn) {
  const local = conn.pc?.localDescription?.sdp;
  const remote = conn.pc?.remoteDescription?.sdp;
  return conn.isOfferer ? connectionFingerprints(local, remote) : connectionFingerprints(remote, local);
}

function doorName(value) {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, MAX_DOOR_NAME) : 'The door';
}

/**
 * Pairs with the door at `home` using the link's one-use `token`. Resolves with {pairing: {id, door, home,
 * credential, peerId}, vapidPublicKey, connection} once the door's `paired` reply proved the token over this
 * very connection; the connection stays open for the push subscription (sendPushSubscription), and the
 * caller closes it. Rejects with a PairingError, having stored nothing.
 */
export function pairWithDoor({ wire, home, token, name, peerId, iceServers = [], timeoutMs = PAIR_TIMEOUT_MS }) {
  return new Promise((resolve, reject) => {
    const conn = new DataConnection({
      wire, remoteId: home, iceServers, label: 'pair', reliable: true, serialization: 'json',
      metadata: { intercom: 'pair' },
    });
    let fingerprints = null;
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        conn.close();
        reject(error);
      } else {
        resolve(value);
      }
    };
    const timer = setTimeout(() => finish(new PairingError('timeout', 'The door did not answer.')), timeoutMs);

    conn.addEventListener('open', async () => {
      fingerprints = fingerprintsOf(conn);
      if (!fingerprints) {
        finish(new PairingError('error', 'The connection to the door has no DTLS fingerprints.'));
        return;
      }
      try {
        const proof = await pairingMac('pair', token, fingerprints);
        if (!conn.send({ t: 'pair', name, peerId, proof })) throw new Error('the connection closed');
      } catch (error) {
        finish(new PairingError('error', `Could not send the pairing request (${error.message}).`));
      }
    });

    conn.addEventListener('data', async ({ detail: message }) => {
      if (settled || message === null || typeof message !== 'object' || !fingerprints) return;
      if (message.t === 'pair-refused') {
        const reason = typeof message.reason === 'string' ? message.reason : 'refused';
        finish(new PairingError(reason, `The door refused the pairing (${reason}).`));
        return;
      }
      if (message.t !== 'paired') return;
      const { id, door, credential, vapidPublicKey, proof } = message;
      const holds = typeof credential === 'string' &&
        await pairingMacHolds(proof, 'paired', token, fingerprints, credential).catch(() => false);
      if (!holds || message.home !== home || typeof id !== 'string' || id === '') {
        finish(new PairingError('impostor', 'The reply did not prove the pairing code.'));
        return;
      }
      finish(null, {
        pairing: { id, door: doorName(door), home, credential, peerId },
        vapidPublicKey: typeof vapidPublicKey === 'string' && vapidPublicKey !== '' ? vapidPublicKey : null,
        connection: conn,
      });
    });

    conn.addEventListener('ended', ({ detail }) => {
      if (detail.reason === 'unreachable') {
        finish(new PairingError('unreachable', 'The door is not reachable.'));
      } else if (detail.reason === 'connection-lost') {
        finish(new PairingError('lost', 'The door stopped answering.'));
      } else {
        finish(new PairingError('closed', 'The door closed the connection without pairing.'));
      }
    });

    conn.start();
  });
}

/** Sends {t: "push", subscription} on the pairing connection. */
export function sendPushSubscription(connection, subscription) {
  return connection.send({ t: 'push', subscription });
}

/** Is this data OFFER a ring from our door? (Anything else that reaches the stable ID is ignored.) */
export function isRingOffer(pairing, src, payload) {
  return !!pairing && src === pairing.home && payload?.type === 'data' && payload.metadata?.intercom === 'ring' &&
    payload.serialization === 'json';
}

/**
 * One ring link the door opened to us (answerer side). On open it sends hello with the credential's MAC; a
 * `ring` whose MAC holds becomes a 'ring' event (detail {door, code, link, expiresAt}), `ring-over` an 'over'
 * event (detail {reason}); 'ended' when the connection goes (after either, or instead), with the
 * connection's {by, reason} ('connection-lost': the door went silent, liveness.js).
 */
export class RingLink extends EventTarget {
  connection;
  ring = null;
  #pairing;
  #fingerprints = null;
  #helloTimer = 0;

  constructor({ wire, pairing, offer, iceServers = [] }) {
    super();
    this.#pairing = pairing;
    this.connection = new DataConnection({ wire, iceServers, offer });
    this.connection.addEventListener('open', () => this.#hello());
    this.connection.addEventListener('data', ({ detail }) => this.#onMessage(detail));
    this.connection.addEventListener('ended', ({ detail }) => {
      clearTimeout(this.#helloTimer);
      this.dispatchEvent(new CustomEvent('ended', { detail }));
    });
  }

  answer() {
    this.connection.answer();
    // A ring link that proves nothing within a while is not a ring.
    this.#helloTimer = setTimeout(() => {
      if (!this.ring) this.close();
    }, HELLO_TIMEOUT_MS);
  }

  close() {
    this.connection.close();
  }

  async #hello() {
    this.#fingerprints = fingerprintsOf(this.connection);
    if (!this.#fingerprints) {
      this.close();
      return;
    }
    const proof = await pairingMac('hello', this.#pairing.credential, this.#fingerprints);
    this.connection.send({ t: 'hello', id: this.#pairing.id, proof });
  }

  async #onMessage(message) {
    if (message === null || typeof message !== 'object' || !this.#fingerprints) return;
    if (message.t === 'ring' && !this.ring) {
      const { link, proof } = message;
      const holds = typeof link === 'string' &&
        await pairingMacHolds(proof, 'ringReply', this.#pairing.credential, this.#fingerprints, link).catch(() => false);
      const target = holds ? ringTarget(link) : null;
      if (!target) {
        console.warn('intercom: a ring whose proof does not hold was dropped');
        this.close();
        return;
      }
      const expiresAt = Number.isFinite(message.expiresAt) ? message.expiresAt : Date.now() + 120000;
      this.ring = { door: doorName(message.door ?? this.#pairing.door), code: target.code, link, expiresAt };
      this.dispatchEvent(new CustomEvent('ring', { detail: this.ring }));
    } else if (message.t === 'picture') {
      this.dispatchEvent(new CustomEvent('picture', { detail: message }));
    } else if (message.t === 'ring-over' && this.ring) {
      const reason = ['answered-elsewhere', 'in-visit'].includes(message.reason) ? message.reason : 'missed';
      this.dispatchEvent(new CustomEvent('over', { detail: { reason } }));
    }
  }
}

/** The room code, secret text and TURN credential (or null) of a join link (…?room=12345#k=…[&t=…]), or null. */
export function ringTarget(link) {
  let url;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const code = parseRoomCode(url.searchParams.get('room'));
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  const secret = fragment.get('k');
  return code && secret ? { code, secret, turn: parseRoomTURN(fragment.get('t')) } : null;
}
