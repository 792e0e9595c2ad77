// The 5-digit door code shown on the intercom, and the PeerJS ID the device registers for it.

import { isValidPeerId } from './peerjs-wire.js';

const ROOM_CODE_PATTERN = /^[0-9]{5}$/;

/** Returns the 5-digit code in `text` (surrounding spaces allowed), or null. */
export function parseRoomCode(text) {
  const code = typeof text === 'string' ? text.trim() : '';
  return ROOM_CODE_PATTERN.test(code) ? code : null;
}

/** The device's peer ID for a room: config roomPrefix + code, e.g. "intercom-12345". */
export function roomPeerId(prefix, code) {
  const id = `${prefix}${code}`;
  if (!isValidPeerId(id)) {
    throw new Error(`roomPrefix "${prefix}" does not give a valid PeerJS ID ("${id}")`);
  }
  return id;
}

/** A fresh random 5-digit code (uniform over 00000–99999, from the CSPRNG). */
export function randomRoomCode() {
  const limit = 4294900000; // the largest multiple of 100000 below 2^32: no modulo bias
  const word = new Uint32Array(1);
  do crypto.getRandomValues(word); while (word[0] >= limit);
  return String(word[0] % 100000).padStart(5, '0');
}
