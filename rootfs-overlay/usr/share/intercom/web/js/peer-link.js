// What a PeerJS media call and a PeerJS data connection share: one RTCPeerConnection to one
// remote peer, signalled through a PeerJSWire and routed by (remote ID, connectionId); OFFER or
// ANSWER with trickled CANDIDATEs (docs/signaling.md#media-calls, #data-connections). Either side of it:
// the offerer calls offer(), the answerer (built from an incoming OFFER) calls answer().
//
// Subclasses set up the PeerConnection's contents (tracks, channels) in #prepare hooks and
// report the end through end(by, reason, error). Event 'ended' — detail {by, reason, error} —
// fires exactly once; by is 'local', 'remote' or null.

import { newConnectionId } from './peerjs-wire.js';

// A peer could flood us with candidates before its description; a real one sends a handful.
const MAX_PENDING_REMOTE_CANDIDATES = 200;

// How long a link may try candidate pairs, from the moment both descriptions are known, before it
// ends with reason 'no-route' (the door's config.json: iceTimeoutSeconds). Set once by the page.
let connectTimeoutMs = 20000;

/** Sets the bound every later link gets to find a working candidate pair. */
export function setConnectTimeout(ms) {
  if (Number.isFinite(ms) && ms > 0) connectTimeoutMs = ms;
}

export class PeerLink extends EventTarget {
  connectionId;
  remoteId;
  /** 'media' or 'data' (the OFFER's payload.type). */
  kind;
  /** The incoming OFFER's payload (answerer side), else null. */
  offerPayload = null;

  wire;
  iceServers;
  pc = null;

  #unroute = null;
  #descriptionSent = false;
  #pendingLocalCandidates = [];
  #answered = false;
  #remoteDescriptionSet = false;
  #pendingRemoteCandidates = [];
  #ended = false;
  #everConnected = false;
  #connectTimer = null;
  #onWireClosed = () => {
    // Without signalling the answer can never arrive; a connected link carries on peer to peer.
    if (!this.#answered && this.isOfferer) this.end(null, 'error', new Error('Lost connection to the signalling server.'));
  };

  /** Offerer: {wire, remoteId, kind, iceServers}. Answerer: also offer = the OFFER's {src, payload}. */
  constructor({ wire, remoteId, kind, iceServers = [], offer = null }) {
    super();
    this.wire = wire;
    this.kind = kind;
    this.iceServers = iceServers;
    if (offer) {
      this.remoteId = offer.src;
      this.offerPayload = offer.payload;
      this.connectionId = offer.payload.connectionId;
    } else {
      this.remoteId = remoteId;
      this.connectionId = newConnectionId(kind === 'media' ? 'mc' : 'dc');
    }
    // Route at once: candidates may arrive before answer() (PeerJS stores them likewise).
    this.#unroute = wire.route(this.remoteId, this.connectionId, (message) => this.#onSignal(message));
    wire.addEventListener('close', this.#onWireClosed);
  }

  get isOfferer() {
    return this.offerPayload === null;
  }

  get ended() {
    return this.#ended;
  }

  /** Has the remote side answered (offerer) / have we answered (answerer)? */
  get answered() {
    return this.#answered;
  }

  /** Creates the PeerConnection; subclasses add tracks and channels in setUp(pc). */
  createPeerConnection() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    pc.addEventListener('icecandidate', (event) => this.#onLocalCandidate(event.candidate));
    pc.addEventListener('connectionstatechange', () => this.#connectionStateChanged(pc.connectionState));
    this.pc = pc;
    return pc;
  }

  /**
   * Offerer: creates and sends the OFFER with `extra` payload fields, or with what `extra(offerSdp)`
   * resolves to (a proof over the SDP). Never throws (ends instead).
   */
  async sendOffer(extra) {
    try {
      const offer = await this.pc.createOffer();
      if (this.#ended) return;
      await this.pc.setLocalDescription(offer);
      if (this.#ended) return;
      if (typeof extra === 'function') extra = await extra(offer.sdp);
      if (this.#ended) return;
      const sent = this.wire.send({
        type: 'OFFER',
        dst: this.remoteId,
        payload: { sdp: { type: offer.type, sdp: offer.sdp }, type: this.kind, connectionId: this.connectionId, ...extra },
      });
      if (!sent) throw new Error('Lost connection to the signalling server.');
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    this.#flushLocalCandidates();
  }

  /** Answerer: applies the OFFER, creates and sends the ANSWER. Never throws (ends instead). */
  async sendAnswer(beforeAnswer = () => {}) {
    this.#answered = true;
    try {
      const sdp = this.offerPayload.sdp;
      if (sdp?.type !== 'offer' || typeof sdp.sdp !== 'string') throw new Error('The call offer has no usable SDP.');
      await this.pc.setRemoteDescription({ type: 'offer', sdp: sdp.sdp });
      if (this.#ended) return;
      this.#onRemoteDescriptionSet();
      beforeAnswer(this.pc);
      const answer = await this.pc.createAnswer();
      if (this.#ended) return;
      await this.pc.setLocalDescription(answer);
      if (this.#ended) return;
      const sent = this.wire.send({
        type: 'ANSWER',
        dst: this.remoteId,
        payload: { sdp: { type: answer.type, sdp: answer.sdp }, type: this.kind, connectionId: this.connectionId },
      });
      if (!sent) throw new Error('Lost connection to the signalling server.');
    } catch (error) {
      this.end(null, 'error', error);
      return;
    }
    this.#flushLocalCandidates();
  }

  /** The connect bound is kept here, before any subclass sees the state: overrides need not call super. */
  #connectionStateChanged(state) {
    if (this.#ended) return;
    if (state === 'connected') {
      this.#everConnected = true;
      clearTimeout(this.#connectTimer);
    }
    // Never connected and ICE gave up: no path between the two networks (not a hang-up).
    if (state === 'failed' && !this.#everConnected) {
      this.end(null, 'no-route');
      return;
    }
    this.onConnectionState(state);
  }

  /** Called on every connection state change after the connect bookkeeping; subclasses replace it. */
  onConnectionState(state) {
    if (state === 'failed' || state === 'closed') this.end('remote', 'connection-lost');
  }

  /**
   * Offerer: may this ANSWER payload be used? Called before setRemoteDescription; false ends the link
   * with reason 'impostor'. Default: yes.
   */
  async acceptAnswer(payload) {
    return true;
  }

  /** Called with LEAVE/EXPIRE for this peer before the link is answered; default: unreachable. */
  onUnreachable(type, payload) {
    this.end(null, 'unreachable');
  }

  /** Called with a LEAVE's payload once the link is answered; default: nothing (the connection decides). */
  onLeave(payload) {}

  /** Ends the link once: unroutes, closes the PeerConnection, fires 'ended'. */
  end(by, reason, error = null) {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#connectTimer);
    this.#unroute?.();
    this.wire.removeEventListener('close', this.#onWireClosed);
    this.beforeClose();
    this.pc?.close();
    this.dispatchEvent(new CustomEvent('ended', { detail: { by, reason, error } }));
  }

  /** Hook: close channels before the PeerConnection closes. */
  beforeClose() {}

  #onSignal({ type, payload }) {
    if (this.#ended) return;
    switch (type) {
      case 'ANSWER':
        if (this.isOfferer) this.#onAnswer(payload);
        break;
      case 'CANDIDATE':
        this.#onRemoteCandidate(payload.candidate);
        break;
      // Both say the peer is not on the signalling server (or, LEAVE with a reason, that it
      // refused us). Once answered that no longer matters: the peer may leave signalling
      // during the call; the connection decides — unless the LEAVE says more (onLeave).
      case 'EXPIRE':
      case 'LEAVE':
        if (!this.#answered) this.onUnreachable(type, payload);
        else if (type === 'LEAVE') this.onLeave(payload);
        break;
      default:
        // A second OFFER on our connectionId: PeerJS has no renegotiation; the page handles
        // it as a new incoming connection only if nobody routed it, so ignore it here.
        break;
    }
  }

  async #onAnswer(payload) {
    const sdp = payload.sdp;
    if (this.#answered || sdp?.type !== 'answer' || typeof sdp.sdp !== 'string') return;
    this.#answered = true;
    let accepted = false;
    try {
      accepted = await this.acceptAnswer(payload);
    } catch (error) {
      console.warn('intercom: answer check failed', error);
    }
    if (this.#ended) return;
    if (!accepted) {
      // Whoever answered is told we are gone (nothing connects, so nothing else would tell it).
      this.wire.sendLeave(this.remoteId, { connectionId: this.connectionId, reason: 'hangup' });
      this.end(null, 'impostor', new Error('The answer does not come from the real door.'));
      return;
    }
    this.dispatchEvent(new Event('answered'));
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: sdp.sdp });
    } catch (error) {
      this.end(null, 'error', new Error(`The answer was not accepted (${error.message}).`));
      return;
    }
    if (this.#ended) return;
    this.#onRemoteDescriptionSet();
  }

  #onRemoteDescriptionSet() {
    this.#remoteDescriptionSet = true;
    this.#connectTimer = setTimeout(() => {
      if (!this.#everConnected) this.end(null, 'no-route');
    }, connectTimeoutMs);
    for (const candidate of this.#pendingRemoteCandidates.splice(0)) this.#addRemoteCandidate(candidate);
  }

  #onRemoteCandidate(candidate) {
    const init = candidateInit(candidate);
    if (!init) return;
    if (this.#remoteDescriptionSet) {
      this.#addRemoteCandidate(init);
    } else if (this.#pendingRemoteCandidates.length < MAX_PENDING_REMOTE_CANDIDATES) {
      this.#pendingRemoteCandidates.push(init);
    }
  }

  #addRemoteCandidate(init) {
    this.pc.addIceCandidate(init).catch((error) => {
      // A peer that names the m-line by index but sends a made-up sdpMid (not the description's a=mid):
      // Chromium goes by sdpMid and refuses it, so try the index alone.
      if (init.sdpMid !== undefined && init.sdpMLineIndex !== undefined && !this.#hasMid(init.sdpMid)) {
        const { sdpMid, ...byIndex } = init;
        this.#addRemoteCandidate(byIndex);
        return;
      }
      console.warn('intercom: remote ICE candidate refused', init.candidate, error);
    });
  }

  #hasMid(mid) {
    return (this.pc.remoteDescription?.sdp ?? '').split(/\r?\n/).includes(`a=mid:${mid}`);
  }

  #onLocalCandidate(candidate) {
    // null (and '') = end of candidates, which PeerJS never signals.
    if (!candidate?.candidate) return;
    const json = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
      usernameFragment: candidate.usernameFragment,
    };
    if (this.#descriptionSent) this.#sendCandidate(json);
    else this.#pendingLocalCandidates.push(json);
  }

  #flushLocalCandidates() {
    this.#descriptionSent = true;
    for (const candidate of this.#pendingLocalCandidates.splice(0)) this.#sendCandidate(candidate);
  }

  #sendCandidate(candidate) {
    if (this.#ended) return;
    this.wire.send({
      type: 'CANDIDATE',
      dst: this.remoteId,
      payload: { candidate, type: this.kind, connectionId: this.connectionId },
    });
  }
}

/** Checks a CANDIDATE payload's candidate object; returns an RTCIceCandidateInit or null. */
function candidateInit(candidate) {
  if (candidate === null || typeof candidate !== 'object') return null;
  const { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } = candidate;
  if (typeof line !== 'string' || line === '') return null;
  const init = { candidate: line };
  if (typeof sdpMid === 'string') init.sdpMid = sdpMid;
  if (Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0) init.sdpMLineIndex = sdpMLineIndex;
  if (init.sdpMid === undefined && init.sdpMLineIndex === undefined) return null;
  if (typeof usernameFragment === 'string') init.usernameFragment = usernameFragment;
  return init;
}
