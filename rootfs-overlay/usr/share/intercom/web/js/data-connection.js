// A PeerJS data connection (what `peer.connect()` makes), either side: one RTCDataChannel on
// its own RTCPeerConnection, created by the offerer with the OFFER's label and reliability, and
// the OFFER's serialization deciding the bytes (docs/signaling.md#data-connections):
//   binary (default; also 'binary-utf8', 'default') — one BinaryPack value per binary frame,
//     values over 16 300 packed bytes chunked as {__peerData: id, n, data, total};
//   json — UTF-8 JSON in a binary frame (PeerJS 1.5) or a text frame (1.4); both are read, and we
//     write the kind the peer uses: text once it sent text or its OFFER carried 1.4's `browser`;
//   raw  — strings as text frames, bytes as binary frames.
//
// Events: 'open'; 'data' — detail: the value; 'ended' — detail {by, reason, error}, once.

import { ChunkAssembler, chunk, pack, unpack } from './binarypack.js';
import { isKeepaliveAck, LinkKeepalive } from './liveness.js';
import { PeerLink } from './peer-link.js';

export const SERIALIZATIONS = Object.freeze(['binary', 'binary-utf8', 'default', 'json', 'raw']);
const MAX_BUFFERED_BYTES = 8 << 20;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class DataConnection extends PeerLink {
  label;
  reliable;
  /** 'binary', 'json' or 'raw' (aliases of binary normalised). */
  serialization;
  metadata;

  #channel = null;
  #open = false;
  #chunks = new ChunkAssembler();
  #nextMessageId = 1;
  #jsonText = false;
  #keepalive = null; // keepalives with a door (liveness.js)

  /**
   * Outgoing: {wire, remoteId, iceServers, label?, reliable = true, serialization = 'binary', metadata?,
   * jsonText = false}, then start(); jsonText: JSON in text frames, and `browser` in the OFFER, as a
   * PeerJS 1.4 peer does. Incoming: {wire, iceServers, offer: {src, payload}}, then answer().
   */
  constructor({ wire, remoteId, iceServers = [], offer = null, label, reliable = true, serialization = 'binary', metadata,
    jsonText = false }) {
    super({ wire, remoteId, kind: 'data', iceServers, offer });
    const source = offer ? offer.payload : { label, reliable, serialization, metadata };
    if (!SERIALIZATIONS.includes(source.serialization)) {
      throw new Error(`unknown data serialization "${source.serialization}"`);
    }
    this.label = typeof source.label === 'string' ? source.label : this.connectionId;
    this.reliable = Boolean(source.reliable);
    this.serialization = source.serialization === 'json' || source.serialization === 'raw' ? source.serialization : 'binary';
    this.metadata = source.metadata;
    this.#jsonText = offer ? typeof offer.payload.browser === 'string' : Boolean(jsonText);
  }

  get open() {
    return this.#open;
  }

  /** Offerer: creates the channel and sends the OFFER. */
  async start() {
    try {
      const pc = this.createPeerConnection();
      this.#watchChannel(pc.createDataChannel(this.label, { ordered: this.reliable }));
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    const extra = { label: this.label, reliable: this.reliable, serialization: this.serialization };
    if (this.#jsonText) extra.browser = 'chrome';
    if (this.metadata !== undefined) extra.metadata = this.metadata;
    await this.sendOffer(extra);
  }

  /** Answerer: accepts the offered channel (PeerJS does this without asking the app). */
  async answer() {
    if (this.isOfferer || this.answered || this.ended) return;
    try {
      const pc = this.createPeerConnection();
      pc.addEventListener('datachannel', (event) => this.#watchChannel(event.channel));
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    await this.sendAnswer();
  }

  /**
   * Resolves once no more than `bytes` wait in the channel's send buffer, or the connection ended: a sender
   * of many values (a file) waits here instead of filling the buffer until send() refuses.
   */
  drained(bytes) {
    const channel = this.#channel;
    if (!channel || this.ended || channel.bufferedAmount <= bytes) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        channel.removeEventListener('bufferedamountlow', done);
        channel.removeEventListener('close', done);
        this.removeEventListener('ended', done);
        resolve();
      };
      channel.bufferedAmountLowThreshold = bytes;
      channel.addEventListener('bufferedamountlow', done);
      channel.addEventListener('close', done);
      this.addEventListener('ended', done);
    });
  }

  /** Sends one value; returns false when the channel is not open or too far behind. */
  send(value) {
    const channel = this.#channel;
    if (!this.#open || channel?.readyState !== 'open') return false;
    if (channel.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    switch (this.serialization) {
      case 'raw':
        channel.send(value);
        break;
      case 'json': {
        const text = JSON.stringify(value);
        channel.send(this.#jsonText ? text : utf8.encode(text));
        break;
      }
      default:
        for (const piece of chunk(pack(value), this.#nextMessageId++)) channel.send(piece);
        break;
    }
    return true;
  }

  close() {
    this.end('local', 'hangup');
  }

  onConnectionState(state) {
    if (this.ended) return;
    if (state === 'failed' || state === 'closed') this.end('remote', 'connection-lost');
  }

  beforeClose() {
    this.#keepalive?.stop();
    this.#open = false;
    this.#channel?.close();
  }

  #watchChannel(channel) {
    if (this.#channel) return;
    this.#channel = channel;
    channel.binaryType = 'arraybuffer';
    const opened = () => {
      if (this.#open || this.ended) return;
      this.#open = true;
      this.dispatchEvent(new Event('open'));
      if (!this.ended) this.#keepalive = LinkKeepalive.forConnection(this);
    };
    channel.addEventListener('open', opened);
    if (channel.readyState === 'open') queueMicrotask(opened);
    channel.addEventListener('close', () => this.end('remote', 'hangup'));
    channel.addEventListener('message', (event) => this.#onMessage(event.data));
  }

  #onMessage(data) {
    this.#keepalive?.heard();
    let value;
    try {
      value = this.#decode(data);
    } catch (error) {
      console.warn('intercom: undecodable data message dropped', error);
      return;
    }
    if (value === NOTHING || (this.#keepalive && isKeepaliveAck(value))) return;
    this.dispatchEvent(new CustomEvent('data', { detail: value }));
  }

  #decode(data) {
    switch (this.serialization) {
      case 'raw':
        return data;
      case 'json':
        this.#jsonText = typeof data === 'string';
        return JSON.parse(this.#jsonText ? data : fromUtf8.decode(data));
      default: {
        if (typeof data === 'string') return NOTHING; // BinaryPack is binary frames only
        const value = unpack(data);
        return this.#control(value);
      }
    }
  }

  // Maps with a truthy __peerData are PeerJS control messages: a chunk, or {type: 'close'}.
  #control(value) {
    const marker = value !== null && typeof value === 'object' ? value.__peerData : undefined;
    if (!marker) return value;
    if (marker.type === 'close') {
      this.end('remote', 'hangup');
      return NOTHING;
    }
    const whole = this.#chunks.add(value);
    return whole ? this.#control(unpack(whole)) : NOTHING;
  }
}

const NOTHING = Symbol('nothing');
