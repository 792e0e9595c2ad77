// The door's visit log on a paired browser (docs/visits.md): the list of rings, each missed visit's clip
// played in the page, and delete. Everything goes over a data connection to the door's home ID that the
// pairing credential proves (a MAC over this connection's DTLS fingerprints), never over plain HTTP.
//
// Wire (JSON): page → {t:'hello', id, proof} then {t:'visits'} | {t:'clip', id, offset} | {t:'delete', id};
// door → {t:'visits', list} | {t:'clip', id, offset, size, data (base64), last} | {t:'deleted', id} |
// {t:'error', id, code, message}. A clip comes one chunk (11 kB) per request, so nothing piles up in the buffers.

import { DataConnection } from './data-connection.js';
import { connectionFingerprints, pairingMac } from './pairing-proof.js';

const MAX_CLIP_BYTES = 400 * 1024 * 1024; // the door's own bound is far below; a lying size stops here
const OUTCOMES = { answered: 'Answered', missed: 'Missed', declined: 'Declined' };

function fingerprintsOf(conn) {
  const local = conn.pc?.localDescription?.sdp;
  const remote = conn.pc?.remoteDescription?.sdp;
  return conn.isOfferer ? connectionFingerprints(local, remote) : connectionFingerprints(remote, local);
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** When and how a visit went, in words: "Sat 14:02 · Missed · 31 s". */
export function describeVisit(visit) {
  const when = new Date(visit.at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  const outcome = OUTCOMES[visit.outcome] ?? 'Not ended'; // going on, or cut off by a power cut
  const by = visit.outcome === 'answered' ? ` by ${visit.by === 'paired' ? visit.byName : 'visitor link'}` : '';
  const seconds = typeof visit.durationMs === 'number' ? ` · ${Math.round(visit.durationMs / 1000)} s` : '';
  return `${when} · ${outcome}${by}${seconds}`;
}

export class VisitsPanel {
  #app;
  #pairing; // () => the pairing, or null
  #el;
  #conn = null;
  #proved = false;
  #clip = null; // {id, parts, received, size} while a clip arrives
  #url = null;

  constructor(app, pairing) {
    this.#app = app;
    this.#pairing = pairing;
    this.#el = Object.fromEntries(['visits-open', 'visits-panel', 'visits-note', 'visits-list', 'visits-player']
      .map((id) => [id, document.getElementById(id)]));
    this.#el['visits-open'].addEventListener('click', () => this.open());
    this.#note({ state: 'closed', visits: [], clip: null, played: null });
  }

  /** Opens (or reopens) the proved connection to the door and shows its list. */
  open() {
    const pairing = this.#pairing();
    const { signaling } = this.#app;
    if (!pairing || !signaling.wire) {
      this.#say('Not connected to the server yet; try again in a moment.');
      return;
    }
    this.close();
    this.#el['visits-panel'].hidden = false;
    this.#say('Asking the door for its visits…');
    this.#note({ state: 'opening' });
    const conn = new DataConnection({
      wire: signaling.wire, remoteId: pairing.home, iceServers: signaling.config.iceServers, label: 'visits',
      reliable: true, serialization: 'json', metadata: { intercom: 'visits' },
    });
    this.#conn = conn;
    this.#proved = false;
    conn.addEventListener('open', async () => {
      const fingerprints = fingerprintsOf(conn);
      if (!fingerprints) return this.#say('The connection to the door has no DTLS fingerprints.');
      const proof = await pairingMac('hello', pairing.credential, fingerprints, 'visits');
      conn.send({ t: 'hello', id: pairing.id, proof });
    });
    conn.addEventListener('data', ({ detail }) => {
      if (this.#conn === conn) this.#onMessage(detail);
    });
    conn.addEventListener('ended', () => {
      if (this.#conn !== conn) return;
      this.#conn = null;
      this.#note({ state: 'closed' });
      if (!this.#proved) this.#say('The door did not open its visit list (is this browser still paired?).');
    });
    conn.start();
  }

  close() {
    const conn = this.#conn;
    this.#conn = null;
    this.#clip = null;
    conn?.close();
  }

  #onMessage(message) {
    if (message === null || typeof message !== 'object') return;
    switch (message.t) {
      case 'visits':
        this.#proved = true;
        this.#note({ state: 'open' });
        this.#render(Array.isArray(message.list) ? message.list : []);
        break;
      case 'clip':
        this.#onChunk(message);
        break;
      case 'deleted':
        this.#say('Deleted.');
        this.#note({ deleted: message.id });
        break;
      case 'error':
        if (this.#clip?.id === message.id) this.#clip = null;
        this.#say(`The door said no: ${message.message ?? message.code}`);
        this.#note({ error: message.code ?? 'error' });
        break;
      default:
        break;
    }
  }

  #render(list) {
    const ul = this.#el['visits-list'];
    ul.replaceChildren();
    this.#note({ visits: list.map(({ id, outcome, clip }) => ({ id, outcome, clip })) });
    this.#say(list.length === 0 ? 'No visits yet.' : `${list.length} visit${list.length === 1 ? '' : 's'}.`);
    for (const visit of list) {
      if (typeof visit?.id !== 'string') continue;
      const li = document.createElement('li');
      li.className = 'visit';
      li.dataset.visit = visit.id;
      const text = document.createElement('span');
      text.textContent = describeVisit(visit);
      li.append(text);
      // A visit without an outcome may be going on (the door then says busy) or cut off by a power cut (its
      // clip plays up to the cut): both buttons either way.
      if (typeof visit.clip === 'string') li.append(this.#button('Play', 'visit-play', () => this.#fetchClip(visit.id)));
      li.append(this.#button('Delete', 'visit-delete', () => this.#delete(visit.id)));
      ul.append(li);
    }
  }

  #button(label, className, onClick) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `button quiet ${className}`;
    button.textContent = label;
    button.addEventListener('click', onClick);
    return button;
  }

  #fetchClip(id) {
    if (!this.#conn || !this.#proved) return;
    this.#clip = { id, parts: [], received: 0, size: null };
    this.#say('Loading the clip…');
    this.#note({ clip: { id, received: 0, size: null } });
    this.#conn.send({ t: 'clip', id, offset: 0 });
  }

  #onChunk(message) {
    const clip = this.#clip;
    if (!clip || message.id !== clip.id || message.offset !== clip.received || typeof message.data !== 'string') return;
    if (!Number.isSafeInteger(message.size) || message.size > MAX_CLIP_BYTES) {
      this.#clip = null;
      this.#say('The clip is too large to play here.');
      return;
    }
    const bytes = base64Bytes(message.data);
    clip.parts.push(bytes);
    clip.received += bytes.length;
    clip.size = message.size;
    this.#note({ clip: { id: clip.id, received: clip.received, size: clip.size } });
    if (!message.last && bytes.length > 0) {
      this.#conn?.send({ t: 'clip', id: clip.id, offset: clip.received });
      return;
    }
    this.#clip = null;
    this.#play(clip);
  }

  #play(clip) {
    const video = this.#el['visits-player'];
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = URL.createObjectURL(new Blob(clip.parts, { type: 'video/mp4' }));
    video.hidden = false;
    video.src = this.#url;
    this.#note({ played: { id: clip.id, bytes: clip.received } });
    this.#say('Playing the clip.');
    video.play().catch(() => {}); // muted and inline: allowed; otherwise the controls start it
  }

  #delete(id) {
    if (!this.#conn || !this.#proved) return;
    this.#conn.send({ t: 'delete', id });
  }

  #say(text) {
    this.#el['visits-note'].textContent = text;
  }

  /** What the tests read (window.intercomTest.visits). */
  #note(fields) {
    const { hooks } = this.#app;
    hooks.visits = { ...(hooks.visits ?? {}), ...fields };
  }
}
