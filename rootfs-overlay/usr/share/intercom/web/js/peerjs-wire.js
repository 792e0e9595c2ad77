// PeerJS 1.5 signalling client: one WebSocket to a PeerServer, speaking the same wire
// protocol as the official browser client (see docs/signaling.md).
//
// Events (EventTarget):
//   'open'         — the server sent OPEN; `wire.id` is our peer ID.
//   'offer'        — detail {src, payload}: an OFFER nobody routed (an incoming call or data connection).
//   'error'        — detail SignalingError, after the socket opened (before that, open() rejects).
//   'disconnected' — the socket dropped; the wire reconnects by itself with the same ID and token.
//   'reconnected'  — registered again after 'disconnected' (OPEN, or a same-token reattach that
//                    the server acknowledges with silence, notes §2).
//   'close'        — gone for good: close() was called, the server refused us, or reconnecting
//                    failed for RECONNECT_GIVE_UP_MS (P2P connections stay up either way).
// OFFER/ANSWER/CANDIDATE for a (src, connectionId) someone routed go to that route's handler;
// EXPIRE and LEAVE from a peer go to every route for that peer.

export const PEERJS_VERSION = '1.5.5';
export const HEARTBEAT_INTERVAL_MS = 5000;
const OPEN_TIMEOUT_MS = 10000;
// A same-token reattach gets no OPEN: an open socket that is not refused within this is registered.
const REATTACH_QUIET_MS = 1500;
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const RECONNECT_GIVE_UP_MS = 5 * 60 * 1000;
const MAX_FRAME_CHARS = 1 << 20;

// The PeerJS client's rule for user-chosen IDs (the server itself accepts anything non-empty).
const PEER_ID_PATTERN = /^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$/;

export function isValidPeerId(id) {
  return typeof id === 'string' && PEER_ID_PATTERN.test(id);
}

/** A random base-36 string, like PeerJS's tokens, but from the CSPRNG (it guards our ID). */
export function randomToken() {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return ((BigInt(words[0]) << 32n) | BigInt(words[1])).toString(36);
}

/** PeerJS connection IDs: 'mc_' for media calls, 'dc_' for data connections. */
export function newConnectionId(kind) {
  return `${kind}_${randomToken()}`;
}

/** Error `type`s follow PeerJS: server-error, unavailable-id, invalid-key, network. */
export class SignalingError extends Error {
  constructor(type, message) {
    super(message);
    this.name = 'SignalingError';
    this.type = type;
  }
}

export class PeerJSWire extends EventTarget {
  /** Our peer ID (from the server), set once open() resolves. */
  id = null;

  #server;
  #token = randomToken();
  #socket = null;
  #heartbeat = 0;
  #started = false;
  #closed = false;
  #isOpen = false;
  #pendingOpen = null;
  #routes = new Map();
  #reconnecting = false;
  #reconnectAttempt = 0;
  #reconnectTimer = 0;
  #lostAt = 0;

  /**
   * server: resolved {host, port, path, key, secure} (see config.js).
   * id: the peer ID to register (e.g. a room's "intercom-12345"); null asks the server for one.
   */
  constructor(server, { id = null } = {}) {
    super();
    this.#server = server;
    if (id !== null && !isValidPeerId(id)) throw new SignalingError('invalid-id', `"${id}" is not a valid peer ID`);
    this.id = id;
  }

  get isOpen() {
    return this.#isOpen;
  }

  /** True between 'disconnected' and 'reconnected'/'close'. */
  get reconnecting() {
    return this.#reconnecting;
  }

  /** Gets an ID over HTTP (unless one was given), connects the WebSocket and resolves on OPEN. */
  async open() {
    if (this.#started) throw new Error('PeerJSWire.open() called twice');
    this.#started = true;
    this.id ??= await this.#fetchId();
    if (this.#closed) throw new SignalingError('network', 'Signalling closed.');
    await new Promise((resolve, reject) => {
      this.#pendingOpen = { resolve, reject };
      this.#connect();
    });
  }

  /** Sends one message; returns false (and drops it) when the socket is not open, like PeerJS. */
  send(message) {
    if (!this.#isOpen || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** Delivers messages from `src` about `connectionId` to handler({type, src, payload}). Returns an unroute function. */
  route(src, connectionId, handler) {
    const key = routeKey(src, connectionId);
    this.#routes.set(key, { src, handler });
    return () => {
      if (this.#routes.get(key)?.handler === handler) this.#routes.delete(key);
    };
  }

  /** Tells `dst` we will not take its connection (PeerJS peers close everything with us on LEAVE). */
  sendLeave(dst, payload) {
    return this.send({ type: 'LEAVE', dst, payload });
  }

  close() {
    this.#shutDown(new SignalingError('network', 'Signalling closed.'));
  }

  /** Drops the socket as if the network failed (the wire then reconnects). For tests and diagnostics. */
  dropSocketForTest() {
    this.#socket?.close();
  }

  #base(scheme) {
    const { host, port, path } = this.#server;
    return `${scheme}${this.#server.secure ? 's' : ''}://${host}:${port}${path}`;
  }

  async #fetchId() {
    const { key } = this.#server;
    const url = `${this.#base('http')}${encodeURIComponent(key)}/id?ts=${Date.now()}${Math.random()}&version=${PEERJS_VERSION}`;
    let response;
    try {
      response = await fetch(url, {
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        signal: AbortSignal.timeout(OPEN_TIMEOUT_MS),
      });
    } catch (error) {
      throw new SignalingError('network', `Could not reach the signalling server (${error.message}).`);
    }
    if (!response.ok) {
      throw new SignalingError('server-error', `The signalling server refused an ID (HTTP ${response.status}).`);
    }
    const id = (await response.text()).trim();
    if (id === '' || id.length > 256 || /[\s\x00-\x1f&#?]/.test(id)) {
      throw new SignalingError('server-error', 'The signalling server sent an unusable ID.');
    }
    return id;
  }

  #connect() {
    const { key } = this.#server;
    const query = `key=${encodeURIComponent(key)}&id=${encodeURIComponent(this.id)}` +
      `&token=${this.#token}&version=${PEERJS_VERSION}`;
    let socket;
    try {
      socket = new WebSocket(`${this.#base('ws')}peerjs?${query}`);
    } catch (error) {
      this.#fail(new SignalingError('network', `Bad signalling address (${error.message}).`));
      return;
    }
    this.#socket = socket;
    const reattach = this.#reconnecting;
    let quietTimer = 0;
    const openTimer = setTimeout(() => {
      if (reattach) socket.close();
      else this.#fail(new SignalingError('network', 'The signalling server did not answer.'));
    }, OPEN_TIMEOUT_MS);
    socket.addEventListener('open', () => {
      // PeerJS counts liveness only by HEARTBEAT messages, never WebSocket pings.
      this.#heartbeat = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'HEARTBEAT' }));
      }, HEARTBEAT_INTERVAL_MS);
      if (reattach) {
        quietTimer = setTimeout(() => {
          clearTimeout(openTimer);
          if (this.#socket === socket) this.#onReattached();
        }, REATTACH_QUIET_MS);
      }
    });
    socket.addEventListener('message', (event) => {
      if (this.#socket !== socket) return;
      if (this.#onFrame(event.data) === 'OPEN') {
        clearTimeout(openTimer);
        clearTimeout(quietTimer);
      }
    });
    socket.addEventListener('close', () => {
      clearTimeout(openTimer);
      clearTimeout(quietTimer);
      if (this.#socket !== socket) return;
      clearInterval(this.#heartbeat);
      if (this.#isOpen || this.#reconnecting) {
        this.#onSocketLost();
      } else {
        this.#shutDown(new SignalingError('network', 'Lost connection to the signalling server.'));
      }
    });
  }

  #onSocketLost() {
    this.#socket = null;
    if (!this.#reconnecting) {
      this.#isOpen = false;
      this.#reconnecting = true;
      this.#reconnectAttempt = 0;
      this.#lostAt = Date.now();
      this.dispatchEvent(new Event('disconnected'));
    }
    if (Date.now() - this.#lostAt > RECONNECT_GIVE_UP_MS) {
      this.#reconnecting = false;
      this.#shutDown(new SignalingError('network', 'Lost connection to the signalling server.'), true);
      return;
    }
    const base = RECONNECT_DELAYS_MS[Math.min(this.#reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
    this.#reconnectAttempt += 1;
    const delay = base / 2 + Math.random() * base / 2;
    this.#reconnectTimer = setTimeout(() => {
      if (!this.#closed) this.#connect();
    }, delay);
  }

  #onReattached() {
    if (!this.#reconnecting) return;
    this.#reconnecting = false;
    this.#isOpen = true;
    this.dispatchEvent(new Event('reconnected'));
  }

  #onFrame(data) {
    if (typeof data !== 'string' || data.length > MAX_FRAME_CHARS) return null;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return null;
    }
    if (message === null || typeof message !== 'object') return null;
    const { type, src, payload } = message;
    switch (type) {
      case 'OPEN':
        if (!this.#isOpen && this.#pendingOpen) {
          this.#isOpen = true;
          this.#pendingOpen.resolve();
          this.#pendingOpen = null;
          this.dispatchEvent(new Event('open'));
        } else if (this.#reconnecting) {
          this.#onReattached();
        }
        break;
      case 'ERROR':
        this.#fail(new SignalingError('server-error', serverText(payload, 'The signalling server reported an error.')));
        break;
      case 'ID-TAKEN':
        this.#fail(new SignalingError('unavailable-id', serverText(payload, 'ID is taken')));
        break;
      case 'INVALID-KEY':
        this.#fail(new SignalingError('invalid-key', serverText(payload, 'Invalid key provided')));
        break;
      case 'EXPIRE':
      case 'LEAVE':
        for (const route of [...this.#routes.values()]) {
          if (route.src === src) route.handler({ type, src, payload });
        }
        break;
      case 'OFFER':
      case 'ANSWER':
      case 'CANDIDATE': {
        if (typeof src !== 'string' || payload === null || typeof payload !== 'object') break;
        const route = this.#routes.get(routeKey(src, payload.connectionId));
        if (route) {
          route.handler({ type, src, payload });
        } else if (type === 'OFFER') {
          this.dispatchEvent(new CustomEvent('offer', { detail: { src, payload } }));
        }
        break;
      }
      default:
        break;
    }
    return type;
  }

  // A server-side refusal: before OPEN it rejects open(), after it is an 'error' event.
  #fail(error) {
    if (!this.#pendingOpen) this.dispatchEvent(new CustomEvent('error', { detail: error }));
    this.#shutDown(error);
  }

  #shutDown(error, wasRegistered = false) {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    const wasOpen = this.#isOpen || this.#reconnecting || wasRegistered;
    this.#socket = null;
    this.#isOpen = false;
    this.#reconnecting = false;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#heartbeat);
    if (socket?.readyState === WebSocket.CONNECTING || socket?.readyState === WebSocket.OPEN) socket.close();
    if (this.#pendingOpen) {
      this.#pendingOpen.reject(error);
      this.#pendingOpen = null;
    }
    if (wasOpen) this.dispatchEvent(new Event('close'));
  }
}

function routeKey(src, connectionId) {
  return `${src}\n${connectionId}`;
}

function serverText(payload, fallback) {
  return typeof payload?.msg === 'string' && payload.msg !== '' ? payload.msg : fallback;
}
