// A PeerJS media call, either side, made the way PeerJS 1.5 makes it: local tracks + an
// auxiliary data channel on one RTCPeerConnection (the offerer creates it), OFFER/ANSWER with
// trickled CANDIDATEs. There is no hang-up message in the protocol: closing the data channel
// (or the whole connection) is the hang-up, both ways.
//
// Our one addition, invisible to stock PeerJS apps beyond what they already do on LEAVE:
// refusing or cancelling a call that was not answered yet is a LEAVE to the other peer with
// payload {connectionId, reason}: reason 'declined' or 'busy' from the callee, 'cancelled'
// from the caller; the door also says 'timeout' (nobody pressed ANSWER) and 'closed' (its room
// closed while the call waited), 'limited' (a knock over the door's knock limit), and 'full' (a household
// visit that already has as many phones as the door takes). A
// hang-up while the call's channel is not open yet (the first moments of a call, or a caller
// without one) is a LEAVE with reason 'hangup' as well as the close. A stock PeerJS peer closes its connections with us on any LEAVE.
//
// Events (EventTarget):
//   'remotestream'    — detail MediaStream: attach it to the remote <video> (fires once per track).
//   'answered'        — offerer: the ANSWER arrived.
//   'connected'       — the RTCPeerConnection reached 'connected' (once).
//   'connectionstate' — detail RTCPeerConnection.connectionState, on every change.
//   'ended'           — detail {by: 'local'|'remote'|null, reason, error}; fires exactly once.
//                       reason: 'hangup', 'connection-lost', 'unreachable' (EXPIRE or a LEAVE
//                       without reason before the answer), 'declined', 'busy', 'timeout', 'limited',
//                       'closed', 'cancelled', 'impostor' (the ANSWER did not prove the room's
//                       secret: not the real door), or 'error' (with error).

import { silenceLimit } from './liveness.js';
import { PeerLink } from './peer-link.js';

// A connected peer that sends nothing at all for silenceLimit() (the door's media.lost_after_seconds,
// from config.json; 5 s by default) is gone (its power, network or browser died without a goodbye):
// the call ends with reason 'connection-lost'. The door sends video, audio and RTCP reports all the
// time; the browser's own ICE would wait for its 30 s consent timeout.
const SILENCE_CHECK_MS = 500;

export const REFUSAL_REASONS = Object.freeze(['declined', 'busy', 'timeout', 'closed', 'cancelled', 'limited', 'full']);

export class Call extends PeerLink {
  #metadata;
  #proof;
  #offerSdp = null;
  #offerNonce = null;
  #channel = null;
  #channelOpened = false;
  #streamlessTracks = [];
  #connected = false;
  #silenceWatch = null;

  /**
   * Outgoing: {wire, remoteId, iceServers, metadata, proof}, then start(localStream). `proof` (a
   * RoomProof, room-proof.js) adds metadata.proof to the OFFER and requires the ANSWER to prove the
   * room's secret too.
   * Incoming: {wire, iceServers, offer: {src, payload}} (an OFFER of type 'media'), then answer() or decline().
   */
  constructor({ wire, remoteId, iceServers = [], metadata, offer = null, proof = null }) {
    super({ wire, remoteId, kind: 'media', iceServers, offer });
    this.#metadata = offer ? offer.payload.metadata : metadata;
    this.#proof = offer ? null : proof;
  }

  /** The OFFER's metadata (whatever the caller sent), or ours when we call. */
  get metadata() {
    return this.#metadata;
  }

  get connected() {
    return this.#connected;
  }

  /**
   * Offerer: sends the OFFER with the stream's tracks. A kind the stream lacks is still
   * received (a recvonly transceiver), so an empty stream makes a watch-only call.
   */
  async start(localStream) {
    try {
      const pc = this.#createPeerConnection();
      // Audio, video, application — in that order, as PeerJS.
      for (const kind of ['audio', 'video']) {
        const tracks = localStream.getTracks().filter((track) => track.kind === kind);
        if (tracks.length === 0) pc.addTransceiver(kind, { direction: 'recvonly' });
        for (const track of tracks) pc.addTrack(track, localStream);
      }
      // Exactly as PeerJS 1.5 creates it (label is the string "undefined"); only its close matters.
      this.#watchChannel(pc.createDataChannel('undefined', { ordered: false }));
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    if (!this.#proof) {
      await this.sendOffer(this.#metadata === undefined ? {} : { metadata: this.#metadata });
      return;
    }
    await this.sendOffer(async (offerSdp) => {
      const proof = await this.#proof.offerProof(this.#binding(offerSdp));
      this.#offerSdp = offerSdp;
      this.#offerNonce = proof.n;
      return { metadata: { ...(this.#metadata ?? {}), proof } };
    });
  }

  async acceptAnswer(payload) {
    if (!this.#proof) return true;
    return this.#proof.answerHolds({
      ...this.#binding(this.#offerSdp),
      nonce: this.#offerNonce,
      answerSdp: payload.sdp.sdp,
      proof: payload.proof,
    });
  }

  #binding(offerSdp) {
    return { room: this.remoteId, caller: this.wire.id, connectionId: this.connectionId, offerSdp };
  }

  /** Answerer: answers with the stream's tracks (an empty stream answers receive-only). */
  async answer(localStream = new MediaStream()) {
    if (this.isOfferer || this.answered || this.ended) return;
    try {
      this.#createPeerConnection();
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    await this.sendAnswer((pc) => {
      // addTrack reuses the transceivers the offer created (recvonly → sendrecv, or sendonly
      // when the caller only receives), so no m-line is added and no renegotiation is needed.
      for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    });
  }

  /** Answerer: refuses the call before answering ('declined' or 'busy'). */
  decline(reason = 'declined') {
    if (this.isOfferer || this.answered || this.ended) return;
    this.wire.sendLeave(this.remoteId, { connectionId: this.connectionId, reason });
    this.end('local', reason);
  }

  hangUp() {
    if (this.ended) return;
    if (this.isOfferer && !this.answered) {
      // Nothing connects yet: tell the callee its ringing can stop.
      this.wire.sendLeave(this.remoteId, { connectionId: this.connectionId, reason: 'cancelled' });
    } else if (!this.isOfferer && !this.answered) {
      this.decline('declined');
      return;
    } else if (this.#channel?.readyState !== 'open') {
      // The other side hears the channel's close only once it is open (it comes up after ICE and
      // DTLS; a PeerJS 1.4 caller has none): say the hang-up over signalling too.
      this.wire.sendLeave(this.remoteId, { connectionId: this.connectionId, reason: 'hangup' });
    }
    this.end('local', 'hangup');
  }

  /** The local track senders (for diagnostics). */
  get senders() {
    return this.pc?.getSenders() ?? [];
  }

  onUnreachable(type, payload) {
    const reason = typeof payload?.reason === 'string' ? payload.reason : null;
    const forUs = payload?.connectionId === undefined || payload.connectionId === this.connectionId;
    if (!forUs) return;
    if (!this.isOfferer) {
      this.end('remote', 'cancelled');
    } else if (type === 'LEAVE' && reason === 'hangup') {
      // The callee answered and hung up before its ANSWER got here (it may never come).
      this.end('remote', 'hangup');
    } else if (type === 'LEAVE' && REFUSAL_REASONS.includes(reason) && reason !== 'cancelled') {
      this.end('remote', reason);
    } else {
      this.end(null, 'unreachable');
    }
  }

  /** A LEAVE once answered: reason 'hangup' for this call is the other side's hang-up. */
  onLeave(payload) {
    if (payload?.reason === 'hangup' && payload.connectionId === this.connectionId) this.end('remote', 'hangup');
  }

  onConnectionState(state) {
    if (this.ended) return;
    this.dispatchEvent(new CustomEvent('connectionstate', { detail: state }));
    if (state === 'connected' && !this.#connected) {
      this.#connected = true;
      this.#watchSilence();
      this.dispatchEvent(new Event('connected'));
    } else if (state === 'failed' || state === 'closed') {
      if (this.#connected) this.end('remote', 'connection-lost');
      else this.end(null, 'error', new Error('Could not set up a connection.'));
    }
  }

  beforeClose() {
    clearInterval(this.#silenceWatch);
    this.#channel?.close();
  }

  /** Ends the call as 'connection-lost' once nothing has arrived from the peer for silenceLimit():
   * the transport's received bytes (media, RTCP, DTLS and STUN answers alike) stop growing. */
  #watchSilence() {
    let lastBytes = -1;
    let lastChange = performance.now();
    let checking = false;
    this.#silenceWatch = setInterval(async () => {
      if (checking || this.ended || !this.pc) return;
      checking = true;
      try {
        let bytes = 0;
        (await this.pc.getStats()).forEach((report) => {
          if (report.type === 'transport') bytes += report.bytesReceived ?? 0;
        });
        const now = performance.now();
        if (bytes !== lastBytes) {
          lastBytes = bytes;
          lastChange = now;
        } else if (now - lastChange >= silenceLimit() && !this.ended) {
          this.end('remote', 'connection-lost');
        }
      } catch {
        // A closing connection has no stats: its end comes from elsewhere.
      } finally {
        checking = false;
      }
    }, SILENCE_CHECK_MS);
  }

  #createPeerConnection() {
    const pc = this.createPeerConnection();
    pc.addEventListener('track', (event) => this.#onTrack(event));
    // The answerer gets the caller's auxiliary channel; its close is the caller's hang-up.
    pc.addEventListener('datachannel', (event) => this.#watchChannel(event.channel));
    return pc;
  }

  #watchChannel(channel) {
    this.#channel = channel;
    channel.addEventListener('open', () => {
      this.#channelOpened = true;
    });
    // 'closing' = the other side began closing it: a hang-up already, and the only sign of one when that
    // side tears down at once, before the close can finish. Never opened = the answer rejected the
    // channel; then only the connection state tells.
    for (const type of ['closing', 'close']) {
      channel.addEventListener(type, () => {
        if (this.#channelOpened) this.end('remote', 'hangup');
      });
    }
  }

  #onTrack({ track, streams }) {
    let stream = streams[0];
    if (!stream) {
      // The other side's SDP carried no msid: gather the tracks into a stream of our own.
      this.#streamlessTracks.push(track);
      stream = new MediaStream(this.#streamlessTracks);
    }
    this.dispatchEvent(new CustomEvent('remotestream', { detail: stream }));
  }
}
