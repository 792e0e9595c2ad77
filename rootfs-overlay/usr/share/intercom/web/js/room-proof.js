// The room secret from the join link's fragment (#k=…), and what it proves (docs/security.md#the-join-scheme;
// the device side is Sources/Admission). Browsers never send a fragment to a server, and this page never
// puts it anywhere else: not in a request, not in console output, not in the address bar after loading
// (it moves to sessionStorage, so a reload in the same tab still works).
//
//   room peer ID = roomPrefix + lowercase base32(HMAC-SHA256(k, "peer-id"))[0:26]
//   MAC key      = HKDF-SHA256(k, salt "intercom/1", info "mac"), 32 bytes
//   offer MAC    = HMAC(MAC key, "intercom/1 offer\n" room \n caller \n connectionId \n nonce \n hex SHA-256(offer SDP))
//   answer MAC   = HMAC(MAC key, "intercom/1 answer\n" … \n hex SHA-256(offer SDP) \n hex SHA-256(answer SDP))
//
// The offer carries metadata.proof = {v: 1, n: nonce, mac}; the door's ANSWER carries payload.proof = {v: 1, mac}.
// WebCrypto where the page is a secure context, else sha256.js (same results; mac.js chooses).

import { base64url, digest, fromBase64url, hmac, sameBytes } from './mac.js';

export { base64url };

const SECRET_BYTES = 16;
const NONCE_BYTES = 12;
const PEER_ID_CHARS = 26;
const STORAGE_PREFIX = 'intercom.k.';
const encoder = new TextEncoder();

function base32(bytes) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** HKDF-SHA256 (RFC 5869) with one output block: exactly what a 32-byte key needs. */
async function hkdf32(ikm, salt, info) {
  const prk = await hmac(salt, ikm);
  const input = new Uint8Array(info.length + 1);
  input.set(info);
  input[info.length] = 1;
  return hmac(prk, input);
}

export class RoomProof {
  #macKey;
  /** The room's peer ID suffix (26 base32 characters). */
  peerIdSuffix;

  constructor(peerIdSuffix, macKey) {
    this.peerIdSuffix = peerIdSuffix;
    this.#macKey = macKey;
  }

  static async fromSecret(secret) {
    const tag = await hmac(secret, encoder.encode('peer-id'));
    const macKey = await hkdf32(secret, encoder.encode('intercom/1'), encoder.encode('mac'));
    return new RoomProof(base32(tag).slice(0, PEER_ID_CHARS), macKey);
  }

  /**
   * The secret for room `code` from the page's URL fragment (#k=…), else from this tab's sessionStorage
   * (a reload). Removes the fragment from the address bar. Returns a RoomProof or null.
   */
  static async forRoom(code, location = window.location, history = window.history, storage = sessionStorage) {
    const key = STORAGE_PREFIX + code;
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
    let text = fragment.get('k');
    if (text !== null) {
      try { storage.setItem(key, text); } catch { /* private mode: this load still works */ }
      history.replaceState(history.state, '', location.pathname + location.search);
    } else {
      try { text = storage.getItem(key); } catch { text = null; }
    }
    return RoomProof.fromSecretText(text);
  }

  /** The RoomProof for a secret written as in a link's #k= (22 base64url characters), or null. */
  static async fromSecretText(text) {
    const secret = fromBase64url(text);
    if (!secret || secret.length !== SECRET_BYTES) return null;
    return RoomProof.fromSecret(secret);
  }

  roomPeerId(prefix) {
    return prefix + this.peerIdSuffix;
  }

  async #mac(fields) {
    return hmac(this.#macKey, encoder.encode(fields.join('\n')));
  }

  /** metadata.proof for our OFFER; remembers the nonce for the answer check. */
  async offerProof({ room, caller, connectionId, offerSdp }) {
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
    const offerHash = hex(await digest(encoder.encode(offerSdp)));
    const mac = await this.#mac(['intercom/1 offer', room, caller, connectionId, nonce, offerHash]);
    return { v: 1, n: nonce, mac: base64url(mac) };
  }

  /** Does the ANSWER's payload.proof show the door knew the secret, for this very offer and answer? */
  async answerHolds({ room, caller, connectionId, nonce, offerSdp, answerSdp, proof }) {
    if (proof === null || typeof proof !== 'object' || proof.v !== 1) return false;
    const got = fromBase64url(proof.mac);
    if (!got || got.length !== 32) return false;
    const want = await this.#mac(['intercom/1 answer', room, caller, connectionId, nonce,
      hex(await digest(encoder.encode(offerSdp))), hex(await digest(encoder.encode(answerSdp)))]);
    return sameBytes(got, want);
  }
}
