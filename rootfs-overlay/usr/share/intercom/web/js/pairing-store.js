// What this browser keeps about its pairing with a door, in localStorage:
//   intercom.peerId  — its stable peer ID, made once: roomPrefix + "hh-" + 32 random hex digits;
//   intercom.pairing — {id, door, home, credential, peerId} once a door has paired it (the credential is the
//                      key of its ring MACs; it never leaves the page except as MACs).
// Unpairing forgets the pairing (the device side revokes with `intercom ctl unpair`); the peer ID stays.

import { fromBase64url } from './mac.js';
import { isValidPeerId } from './peerjs-wire.js';

const PEER_ID_KEY = 'intercom.peerId';
const PAIRING_KEY = 'intercom.pairing';
const CREDENTIAL_BYTES = 32;

/** A home ID as the device registers it: roomPrefix + "home-" + 32 hex digits. */
export function isHomePeerId(id) {
  return isValidPeerId(id) && /home-[0-9a-f]{32}$/.test(id);
}

export class PairingStore {
  #storage;

  constructor(storage = globalThis.localStorage) {
    this.#storage = storage;
  }

  /** This browser's stable peer ID, made (and kept) on first use. Throws if the storage refuses it. */
  stablePeerId(prefix) {
    const kept = this.#get(PEER_ID_KEY);
    if (kept && isValidPeerId(kept) && kept.startsWith(prefix) && /hh-[0-9a-f]{32}$/.test(kept)) return kept;
    const random = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const id = `${prefix}hh-${random}`;
    this.#storage.setItem(PEER_ID_KEY, id);
    if (this.#get(PEER_ID_KEY) !== id) throw new Error('this browser does not keep local storage');
    return id;
  }

  /** The stored pairing {id, door, home, credential, peerId}, or null (none, or not usable). */
  pairing() {
    let value;
    try {
      value = JSON.parse(this.#get(PAIRING_KEY) ?? 'null');
    } catch {
      return null;
    }
    if (value === null || typeof value !== 'object') return null;
    const { id, door, home, credential, peerId } = value;
    if (typeof id !== 'string' || typeof door !== 'string' || !isHomePeerId(home) || !isValidPeerId(peerId)) return null;
    if (fromBase64url(credential)?.length !== CREDENTIAL_BYTES) return null;
    return { id, door, home, credential, peerId };
  }

  /** Stores a pairing the device confirmed (its `paired` MAC held). */
  save({ id, door, home, credential, peerId }) {
    if (fromBase64url(credential)?.length !== CREDENTIAL_BYTES) throw new Error('the credential is not 32 bytes');
    this.#storage.setItem(PAIRING_KEY, JSON.stringify({ id, door, home, credential, peerId }));
  }

  forget() {
    try {
      this.#storage.removeItem(PAIRING_KEY);
    } catch { /* nothing stored */ }
  }

  #get(key) {
    try {
      return this.#storage.getItem(key);
    } catch {
      return null;
    }
  }
}

/** A name for this browser the resident can recognise in `intercom ctl pairings`: "Chrome on Android". */
export function defaultBrowserName(userAgent = navigator.userAgent) {
  const ua = String(userAgent);
  const browser = /Edg\//.test(ua) ? 'Edge'
    : /OPR\/|Opera/.test(ua) ? 'Opera'
    : /SamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
    : /Chrome\/|Chromium\/|CriOS\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari'
    : 'Browser';
  const system = /Android/.test(ua) ? 'Android'
    : /iPhone/.test(ua) ? 'iPhone'
    : /iPad/.test(ua) ? 'iPad'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'Mac'
    : /Linux/.test(ua) ? 'Linux'
    : '';
  return system ? `${browser} on ${system}` : browser;
}
