// One outgoing media call to the device, made the way PeerJS 1.5 `peer.call()` makes it:
// local tracks + an auxiliary data channel on one RTCPeerConnection, OFFER with trickled
// CANDIDATEs, routed by (device ID, connectionId). There is no hang-up message in the
// protocol: closing the data channel (or the whole connection) is the hang-up, both ways.
//
// Events (EventTarget):
//   'remotestream'    — detail MediaStream: attach it to the remote <video> (fires once per track).
//   'connected'       — the RTCPeerConnection reached 'connected' (once).
//   'connectionstate' — detail RTCPeerConnection.connectionState, on every change.
//   'ended'           — detail {by: 'local'|'remote'|null, reason, error}; fires exactly once.
//                       reason: 'hangup', 'connection-lost', 'unreachable' (EXPIRE or LEAVE before the answer)
//                       or 'error' (with error).

import { newConnectionId } from './peerjs-wire.js';

// A peer could flood us with candidates before its answer; a real one sends a handful.
const MAX_PENDING_REMOTE_CANDIDATES = 200;

export class Call extends EventTarget {
  connectionId = newConnectionId('mc');
  remoteId;

  #wire;
  #iceServers;
  #metadata;
  #pc = null;
  #channel = null;
  #channelOpened = false;
  #unroute = null;
  #offerSent = false;
  #pendingLocalCandidates = [];
  #answered = false;
  #remoteDescriptionSet = false;
  #pendingRemoteCandidates = [];
  #streamlessTracks = [];
  #connected = false;
  #ended = false;
  #onWireClosed = () => {
    // Without signalling the answer can never arrive; an answered call carries on peer to peer.
    if (!this.#answered) this.#end(null, 'error', new Error('Lost connection to the signalling server.'));
  };

  /** wire: an open PeerJSWire; remoteId: the device's peer ID; metadata: sent with the OFFER. */
  constructor({ wire, remoteId, iceServers = [], metadata }) {
    super();
    this.#wire = wire;
    this.remoteId = remoteId;
    this.#iceServers = iceServers;
    this.#metadata = metadata;
  }

  get ended() {
    return this.#ended;
  }

  /** Sends the OFFER. Never throws: failures end the call with reason 'error'. */
  async start(localStream) {
    try {
      this.#pc = this.#createPeerConnection(localStream);
      this.#unroute = this.#wire.route(this.remoteId, this.connectionId, (message) => this.#onSignal(message));
      this.#wire.addEventListener('close', this.#onWireClosed);

      const offer = await this.#pc.createOffer();
      if (this.#ended) return;
      await this.#pc.setLocalDescription(offer);
      if (this.#ended) return;
      const sent = this.#wire.send({
        type: 'OFFER',
        dst: this.remoteId,
        payload: {
          sdp: { type: offer.type, sdp: offer.sdp },
          type: 'media',
          connectionId: this.connectionId,
          metadata: this.#metadata,
        },
      });
      if (!sent) throw new Error('Lost connection to the signalling server.');
    } catch (error) {
      this.#end(null, 'error', error);
      return;
    }
    this.#offerSent = true;
    for (const candidate of this.#pendingLocalCandidates.splice(0)) this.#sendCandidate(candidate);
  }

  hangUp() {
    this.#end('local', 'hangup');
  }

  #createPeerConnection(localStream) {
    const pc = new RTCPeerConnection({ iceServers: this.#iceServers });
    pc.addEventListener('icecandidate', (event) => this.#onLocalCandidate(event.candidate));
    pc.addEventListener('track', (event) => this.#onTrack(event));
    pc.addEventListener('connectionstatechange', () => this.#onConnectionState(pc.connectionState));

    // Audio, video, application — in that order. A kind we cannot send is still received,
    // so the offer always lets the door show itself.
    for (const kind of ['audio', 'video']) {
      const tracks = localStream.getTracks().filter((track) => track.kind === kind);
      if (tracks.length === 0) pc.addTransceiver(kind, { direction: 'recvonly' });
      for (const track of tracks) pc.addTrack(track, localStream);
    }

    // Exactly as PeerJS 1.5 creates it (label is the string "undefined"); only its close matters.
    const channel = pc.createDataChannel('undefined', { ordered: false });
    channel.addEventListener('open', () => {
      this.#channelOpened = true;
    });
    channel.addEventListener('close', () => {
      // Never opened = the answer rejected the channel; then only the connection state tells.
      if (this.#channelOpened) this.#end('remote', 'hangup');
    });
    this.#channel = channel;
    return pc;
  }

  #onSignal({ type, payload }) {
    if (this.#ended) return;
    switch (type) {
      case 'ANSWER':
        this.#onAnswer(payload);
        break;
      case 'CANDIDATE':
        this.#onRemoteCandidate(payload.candidate);
        break;
      // Both say the device is not on the signalling server. Once it has answered, that no
      // longer matters (it may leave signalling during the call); the data channel decides.
      case 'EXPIRE':
      case 'LEAVE':
        if (!this.#answered) this.#end(null, 'unreachable');
        break;
      default:
        // A second OFFER on our connectionId: PeerJS has no renegotiation, ignore it.
        break;
    }
  }

  async #onAnswer(payload) {
    const sdp = payload.sdp;
    if (this.#answered || sdp?.type !== 'answer' || typeof sdp.sdp !== 'string') return;
    this.#answered = true;
    try {
      await this.#pc.setRemoteDescription({ type: 'answer', sdp: sdp.sdp });
    } catch (error) {
      this.#end(null, 'error', new Error(`The door's answer was not accepted (${error.message}).`));
      return;
    }
    if (this.#ended) return;
    this.#remoteDescriptionSet = true;
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
    this.#pc.addIceCandidate(init).catch((error) => {
      console.warn('intercom: remote ICE candidate refused', init.candidate, error);
    });
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
    if (this.#offerSent) this.#sendCandidate(json);
    else this.#pendingLocalCandidates.push(json);
  }

  #sendCandidate(candidate) {
    if (this.#ended) return;
    this.#wire.send({
      type: 'CANDIDATE',
      dst: this.remoteId,
      payload: { candidate, type: 'media', connectionId: this.connectionId },
    });
  }

  #onTrack({ track, streams }) {
    let stream = streams[0];
    if (!stream) {
      // The answer carried no msid: gather the tracks into a stream of our own.
      this.#streamlessTracks.push(track);
      stream = new MediaStream(this.#streamlessTracks);
    }
    this.dispatchEvent(new CustomEvent('remotestream', { detail: stream }));
  }

  #onConnectionState(state) {
    if (this.#ended) return;
    this.dispatchEvent(new CustomEvent('connectionstate', { detail: state }));
    if (state === 'connected' && !this.#connected) {
      this.#connected = true;
      this.dispatchEvent(new Event('connected'));
    } else if (state === 'failed' || state === 'closed') {
      if (this.#connected) this.#end('remote', 'connection-lost');
      else this.#end(null, 'error', new Error('Could not set up a connection to the door.'));
    }
  }

  #end(by, reason, error = null) {
    if (this.#ended) return;
    this.#ended = true;
    this.#unroute?.();
    this.#wire.removeEventListener('close', this.#onWireClosed);
    this.#channel?.close();
    this.#pc?.close();
    this.dispatchEvent(new CustomEvent('ended', { detail: { by, reason, error } }));
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
