// The TURN credential a room's link may carry next to its secret: #k=<secret>&t=<expiry>.<credential>.
// The door mints it per ring from a TURN server's shared secret (docs/answer-from-anywhere.md) when the page
// is hosted elsewhere and its config.json lists that server by URL only ("credentialFrom": "room"). Like the
// secret it stays out of every request: read from the fragment (RoomProof.forRoom then clears the address
// bar) and kept in this tab's sessionStorage for a reload.

const STORAGE_PREFIX = 'intercom.t.';
const NAME = 'room'; // the name in the TURN REST username, as the door mints it

/** `<expiry>.<credential in base64url>` → {expiry, credential (base64, as the TURN server compares it)}, or null. */
export function parseRoomTURN(text) {
  const match = /^([0-9]{1,12})\.([A-Za-z0-9_-]{4,200})$/.exec(text ?? '');
  if (!match) return null;
  let credential = match[2].replace(/-/g, '+').replace(/_/g, '/');
  while (credential.length % 4 !== 0) credential += '=';
  return Object.freeze({ expiry: Number(match[1]), credential });
}

/**
 * The room link's TURN credential for room `code`, from the fragment (read before anything clears it), else
 * from this tab's sessionStorage (a reload). null when the link has none.
 */
export function readRoomTURN(code, location = window.location, storage = sessionStorage) {
  const key = STORAGE_PREFIX + code;
  let text = new URLSearchParams(location.hash.replace(/^#/, '')).get('t');
  if (text !== null) {
    try { storage.setItem(key, text); } catch { /* private mode: this load still works */ }
  } else {
    try { text = storage.getItem(key); } catch { text = null; }
  }
  return parseRoomTURN(text);
}

/**
 * iceServers with the room's credential applied to the entries marked "credentialFrom": "room"; those are
 * left out when there is no credential or it has expired (a TURN URL without credentials would make
 * RTCPeerConnection throw, and the server would refuse it anyway).
 */
export function applyRoomTURN(iceServers, turn, nowSeconds = Date.now() / 1000) {
  const usable = turn && turn.expiry > nowSeconds;
  const out = [];
  for (const server of iceServers) {
    if (server.credentialFrom !== 'room') {
      out.push(server);
    } else if (usable) {
      const { credentialFrom, ...rest } = server;
      out.push(Object.freeze({ ...rest, username: `${turn.expiry}:${NAME}`, credential: turn.credential }));
    }
  }
  return Object.freeze(out);
}
