// HMAC-SHA256, SHA-256 and base64url for the page's proofs (room-proof.js, pairing-proof.js): WebCrypto where
// the page is a secure context, else sha256.js (same results; plain http to the door's address has no
// crypto.subtle).

import { hmacSha256, sha256 } from './sha256.js';

const subtle = globalThis.crypto?.subtle;

/** HMAC-SHA256(keyBytes, message), both Uint8Array; resolves to 32 bytes. */
export async function hmac(keyBytes, message) {
  if (subtle) {
    const key = await subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', key, message));
  }
  return hmacSha256(keyBytes, message);
}

/** SHA-256 of a Uint8Array; resolves to 32 bytes. */
export async function digest(message) {
  return subtle ? new Uint8Array(await subtle.digest('SHA-256', message)) : sha256(message);
}

/** Unpadded base64url of bytes. */
export function base64url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Bytes of unpadded (or padded) base64url text; null when it is not that. */
export function fromBase64url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return null;
  const standard = bare.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((bare.length + 3) % 4);
  try {
    return Uint8Array.from(atob(standard), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Do two byte arrays hold the same bytes? Looks at every byte whatever it finds (no early exit). */
export function sameBytes(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
