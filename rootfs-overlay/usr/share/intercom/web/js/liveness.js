// How long a silent door is waited for, and keepalives on the data links this page holds with a door
// (docs/data-link-liveness.md).
//
// The limit is the door's own (`media.lost_after_seconds`, served as config.json's `lostAfterSeconds`): a
// call ends as 'connection-lost' after that much silence (call.js), and so does a data link with a door's
// home ID (the ring link, the pairing link, the door's messages outside a call). Such a link has no media to
// watch, so this page sends {t: 'keepalive'} about every second once it is open; the door answers each
// with {t: 'keepalive-ack'} and watches the same silence on its side. Only links with a home ID
// (`…home-<32 hex>`) get keepalives: a stock PeerJS app never sees one.

import { isHomePeerId } from './pairing-store.js';

const DEFAULT_LIMIT_MS = 5000;
const CHECK_MS = 250;
// The door's limit is at least 3 s: a keepalive at least every second leaves it two to spare.
const MAX_INTERVAL_MS = 1000;
// A check this late after the previous one means this tab was held up (a busy or throttled page): what the
// door sent meanwhile may still be queued, so that check decides nothing.
const STALLED_MS = 1500;

let silenceLimitMs = DEFAULT_LIMIT_MS;

/** Sets the silence after which a call or a door's data link is given up (config.json: lostAfterSeconds). */
export function setSilenceLimit(ms) {
  if (Number.isFinite(ms) && ms > 0) silenceLimitMs = ms;
}

export function silenceLimit() {
  return silenceLimitMs;
}

/** Is `value` the door's answer to a keepalive (consumed, never shown)? */
export function isKeepaliveAck(value) {
  return value !== null && typeof value === 'object' && value.t === 'keepalive-ack';
}

/**
 * The keepalive of one open DataConnection with a door, or null for any other link. `heard()` on every
 * message; `stop()` when the connection ends. A door silent for the limit ends the connection with
 * reason 'connection-lost'.
 */
export class LinkKeepalive {
  #conn;
  #timer = 0;
  #lastHeard;
  #lastSent = 0;
  #lastCheck;

  static forConnection(conn) {
    if (conn.serialization === 'raw' || !isHomePeerId(conn.remoteId)) return null;
    return new LinkKeepalive(conn);
  }

  constructor(conn) {
    this.#conn = conn;
    const now = performance.now();
    this.#lastHeard = now;
    this.#lastCheck = now;
    this.#send(now);
    this.#timer = setInterval(() => this.#check(), CHECK_MS);
  }

  heard() {
    this.#lastHeard = performance.now();
  }

  stop() {
    clearInterval(this.#timer);
  }

  #check() {
    const now = performance.now();
    const late = now - this.#lastCheck >= STALLED_MS;
    this.#lastCheck = now;
    if (this.#conn.ended) {
      this.stop();
      return;
    }
    if (now - this.#lastSent >= Math.min(MAX_INTERVAL_MS, silenceLimitMs / 3)) this.#send(now);
    if (!late && now - this.#lastHeard >= silenceLimitMs) {
      this.stop();
      this.#conn.end('remote', 'connection-lost');
    }
  }

  #send(now) {
    this.#lastSent = now;
    this.#conn.send({ t: 'keepalive' });
  }
}
