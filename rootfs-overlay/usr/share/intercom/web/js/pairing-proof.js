// The MACs of paired browsers (the contract with the device's Sources/Admission/PairingProof.swift; fixed
// vectors in suites/vectors/pairing.json). Each is unpadded base64url of HMAC-SHA256 whose key is the decoded
// bytes of the pairing token (16) or the pairing's credential (32), over UTF-8 text that names the DTLS
// fingerprints of both sides of the data connection the message travels on:
//
//   pair        key token       "intercom-pair:"       + offerFP + "|" + answerFP
//   paired      key token       "intercom-paired:"     + offerFP + "|" + answerFP + "|" + credential
//   hello       key credential  "intercom-ring:"       + offerFP + "|" + answerFP
//   ring reply  key credential  "intercom-ring-reply:" + offerFP + "|" + answerFP + "|" + link
//
// offerFP / answerFP: the first `a=fingerprint:sha-256` value of each SDP, upper-case hex with colons. A relay
// that swaps DTLS certificates makes the two ends see different fingerprints, so a MAC made at one end does
// not hold at the other.

import { base64url, fromBase64url, hmac, sameBytes } from './mac.js';

export const PURPOSES = Object.freeze({
  pair: 'intercom-pair:',
  paired: 'intercom-paired:',
  hello: 'intercom-ring:',
  ringReply: 'intercom-ring-reply:',
});

const encoder = new TextEncoder();

/** The first `a=fingerprint:sha-256` value of `sdp` (session or media level), upper-cased; null without one. */
export function sdpFingerprint(sdp) {
  if (typeof sdp !== 'string') return null;
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('a=fingerprint:')) continue;
    const parts = line.slice('a=fingerprint:'.length).split(' ').filter(Boolean);
    if (parts.length !== 2 || parts[0].toLowerCase() !== 'sha-256') continue;
    const bytes = parts[1].split(':');
    if (bytes.length === 32 && bytes.every((pair) => /^[0-9A-Fa-f]{2}$/.test(pair))) return parts[1].toUpperCase();
  }
  return null;
}

/** The fingerprints of a connection's offer and answer ({offerFP, answerFP}), or null if either is missing. */
export function connectionFingerprints(offerSdp, answerSdp) {
  const offerFP = sdpFingerprint(offerSdp);
  const answerFP = sdpFingerprint(answerSdp);
  return offerFP && answerFP ? { offerFP, answerFP } : null;
}

function text(purpose, { offerFP, answerFP }, extra) {
  const prefix = PURPOSES[purpose];
  if (!prefix) throw new Error(`unknown pairing MAC purpose "${purpose}"`);
  return encoder.encode(prefix + offerFP + '|' + answerFP + (extra === undefined ? '' : '|' + extra));
}

/** The MAC for `purpose`; key: the token's or credential's base64url text; extra: credential or link. */
export async function pairingMac(purpose, keyText, fingerprints, extra = undefined) {
  const key = fromBase64url(keyText);
  if (!key || key.length === 0) throw new Error('the pairing key is not base64url');
  return base64url(await hmac(key, text(purpose, fingerprints, extra)));
}

/** Does `mac` (received) hold for `purpose`? A MAC that is not 32 bytes of base64url never does. */
export async function pairingMacHolds(mac, purpose, keyText, fingerprints, extra = undefined) {
  const got = fromBase64url(mac);
  const key = fromBase64url(keyText);
  if (!got || got.length !== 32 || !key || key.length === 0) return false;
  return sameBytes(got, await hmac(key, text(purpose, fingerprints, extra)));
}
