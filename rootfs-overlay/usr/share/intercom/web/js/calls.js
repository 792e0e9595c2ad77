// The current call: placing one (by code, link or ring), answering one, its end in words, and the switch from
// watch-only to talking (a second call that replaces the first).

import { Call } from './call.js';
import { openLocalMedia, stopMedia } from './local-media.js';
import { parseRoomCode, roomPeerId } from './room-code.js';

const CALL_METADATA = Object.freeze({ client: 'intercom-web' });
const SWITCH_TIMEOUT_MS = 10000;

export class Calls {
  #app;
  #call = null; // the current Call (placed, or answered)
  #proof = null; // the RoomProof the current call was placed with (a link's or a ring's), or null
  #room = null; // the room (or peer) the current call's chat is stored under
  #switching = null; // the Call replacing a watch-only one (see startTalking)
  #replacements = new WeakMap(); // callee side: watch-only Call → the Call answered to replace it

  constructor(app) {
    this.#app = app;
  }

  /** The current Call, or null. */
  get current() {
    return this.#call;
  }

  /** The room (or peer) the current call's chat is stored under, or null. */
  get room() {
    return this.#room;
  }

  inCallText() {
    return this.#room ? `In call — room ${this.#room}` : 'In call';
  }

  /** The join form: the link's room or the typed code; mode 'video', 'audio' or 'watch'. */
  async join(mode) {
    const { page, ui, hosting, link } = this.#app;
    if (page.inCall || page.state === 'incoming' || ui.join.disabled) return;
    const code = link.room ?? parseRoomCode(ui.code.value);
    if (!code) {
      ui.hint.textContent = 'Please enter the 5-digit room code.';
      ui.code.focus();
      return;
    }
    if (hosting.code && code === hosting.code) {
      ui.hint.textContent = 'That is your own room: share it, and others can call you.';
      return;
    }
    this.#app.setJoinButtonsDisabled(true);
    try {
      await this.place(code, mode);
    } finally {
      this.#app.setJoinButtonsDisabled(false);
    }
  }

  async place(code, mode, givenProof = undefined) {
    const { page, signaling, media, link } = this.#app;
    const config = await signaling.ensureConfig();
    if (!config) return;
    // With the link's secret: the room's own peer ID, and a proof in the offer. Without: the code's
    // peer ID, where the door treats the call as a knock someone must let in.
    const proof = givenProof !== undefined ? givenProof : code === link.room ? await link.proof : null;
    let remoteId;
    try {
      remoteId = proof ? proof.roomPeerId(config.roomPrefix) : roomPeerId(config.roomPrefix, code);
    } catch (error) {
      page.fail(error.message);
      return;
    }
    page.note('proved', proof !== null);
    this.#proof = proof;
    let wire;
    try {
      wire = await signaling.connect();
    } catch {
      return;
    }

    page.startCall('calling', mode === 'watch' ? 'Connecting…' : 'Starting camera and microphone…');
    page.note('callPhase', 'connecting');
    page.note('remoteId', remoteId);
    page.note('room', code);
    this.#room = code;
    this.#app.files.reset();
    const local = await media.open(mode);
    if (page.state !== 'calling') {
      stopMedia(local.stream); // hung up while the browser was asking
      return;
    }
    media.use(local, mode);

    const placed = new Call({ wire, remoteId, iceServers: signaling.config.iceServers, metadata: CALL_METADATA, proof });
    this.#call = placed;
    page.note('connectionId', placed.connectionId);
    this.#watch(placed);
    placed.addEventListener('answered', () => {
      if (this.#call === placed && page.state === 'calling') {
        page.note('callPhase', 'connecting');
        page.say('Answered — connecting…');
      }
    });
    page.say('Connecting…');
    await placed.start(media.stream);
    if (this.#call === placed && !placed.ended && !placed.answered) {
      page.note('callPhase', 'ringing');
      page.say(`Ringing room ${code}…`);
    }
  }

  /** Answers a Call from the incoming-call dialog. */
  async answer(offered, mode) {
    const { page, media, hosting } = this.#app;
    this.#call = offered;
    this.#proof = null;
    this.#room = hosting.code ?? offered.remoteId;
    this.#app.files.reset();
    page.startCall('calling', 'Connecting…');
    page.note('callPhase', 'connecting');
    page.note('connectionId', offered.connectionId);
    this.#watch(offered);
    const local = await media.open(mode);
    if (this.#call !== offered || offered.ended) {
      stopMedia(local.stream);
      return;
    }
    media.use(local, mode);
    await offered.answer(media.stream);
  }

  hangUp() {
    const { page } = this.#app;
    if (!page.inCall) return;
    page.noteHangup();
    if (this.#call) {
      this.#call.hangUp(); // → #ended
    } else {
      page.endCall('local', 'You hung up.', 'hangup', 'ended');
    }
  }

  /**
   * Watch-only → talking. PeerJS has no renegotiation (an offer fixes the m-lines for good), so
   * this places a second call to the same peer with camera and microphone, its metadata saying
   * {replaces: <the watch-only call's connectionId>}; this page answers such a call at once
   * (no ringing). Once the new call connects, the watch-only one is hung up. A peer that does not
   * take the replacing call (a stock PeerJS app may ask its user; the door may refuse a second
   * caller) leaves the watch-only call as it was, with a message.
   */
  async startTalking() {
    const { page, ui, signaling } = this.#app;
    const current = this.#call;
    if (!current || this.#switching || page.state !== 'in-call') return;
    ui.talk.disabled = true;
    const local = await openLocalMedia();
    ui.talk.disabled = false;
    if (local.kind === 'none') {
      ui['media-note'].textContent = `${local.problem} Allow camera or microphone for this page, then press Talk again.`;
      return;
    }
    if (this.#call !== current) {
      stopMedia(local.stream);
      return;
    }
    const replacement = new Call({
      wire: signaling.wire ?? current.wire,
      remoteId: current.remoteId,
      iceServers: signaling.config.iceServers,
      metadata: { ...CALL_METADATA, replaces: current.connectionId },
      proof: this.#proof,
    });
    this.#switching = replacement;
    ui['media-note'].textContent = 'Switching to talking…';
    const giveUp = setTimeout(() => replacement.hangUp(), SWITCH_TIMEOUT_MS);
    replacement.addEventListener('connected', () => {
      clearTimeout(giveUp);
      if (this.#switching !== replacement || this.#call !== current) return;
      this.#switching = null;
      this.#swap(current, replacement, local, local.kind.includes('video') ? 'video' : 'audio');
    });
    replacement.addEventListener('ended', () => {
      clearTimeout(giveUp);
      if (this.#switching !== replacement) return;
      this.#switching = null;
      stopMedia(local.stream);
      ui['media-note'].textContent =
        'The other side did not take the switch. Still watching only: hang up and call again to talk.';
    });
    await replacement.start(local.stream);
  }

  /** The callee's side of startTalking(): answer the replacing call with what we already send. */
  answerReplacement(replacement) {
    const current = this.#call;
    replacement.addEventListener('connected', () => {
      if (this.#call !== current) return;
      // The caller hangs up the watch-only call once its side is connected too; closing it
      // from here could beat the caller's own 'connected' and end its call.
      this.#swap(current, replacement, null, this.#app.hooks.mediaMode, false);
    });
    this.#replacements.set(current, replacement);
    replacement.answer(this.#app.media.stream ?? new MediaStream());
  }

  #watch(active) {
    const { page, view } = this.#app;
    active.addEventListener('remotestream', (event) => {
      if (this.#call === active) view.showRemote(event.detail);
    });
    active.addEventListener('connected', () => {
      if (this.#call === active) this.#connected(active);
    });
    active.addEventListener('connectionstate', (event) => {
      if (this.#call !== active || page.state !== 'in-call') return;
      if (event.detail === 'disconnected') page.say('The connection is unstable…');
      if (event.detail === 'connected') page.say(this.inCallText());
    });
    active.addEventListener('ended', (event) => {
      if (this.#call !== active) return;
      // The caller of a switch to talking may connect first and hang up this call before our side
      // of the replacement connects: the replacement carries on as the call (if it fails after
      // all, its own end ends the call).
      const next = this.#replacements.get(active);
      if (next && !next.ended) this.#swap(active, next, null, this.#app.hooks.mediaMode, false);
      else this.#ended(event.detail);
    });
  }

  #connected(active) {
    const { page, view, chat } = this.#app;
    if (page.state === 'calling') page.set('in-call', this.inCallText());
    page.note('callPhase', 'connected');
    view.start();
    chat.open(active);
    this.#app.screen.update();
  }

  #swap(old, replacement, local, mode, hangUpOld = true) {
    const { page, view, media, screen } = this.#app;
    screen.stop(); // the sharing went out on the old call's sender
    this.#call = replacement;
    page.note('connectionId', replacement.connectionId);
    this.#watch(replacement);
    const tracks = replacement.pc.getReceivers().map((receiver) => receiver.track).filter(Boolean);
    if (tracks.length > 0) view.showRemote(new MediaStream(tracks));
    if (local) {
      media.stop();
      media.use(local, mode);
    }
    if (hangUpOld) old.hangUp();
    screen.update();
    page.say(this.inCallText());
  }

  #ended({ by, reason, error }) {
    const { page, ui, view, media, chat, hosting, link, hooks } = this.#app;
    const ended = this.#call;
    this.#call = null;
    this.#switching?.hangUp();
    this.#switching = null;
    view.stop();
    this.#app.screen.stop();
    this.#app.screen.update();
    media.stop();
    view.clear();
    this.#app.files.ended();
    chat.close(ended?.remoteId);
    ui.join.textContent = link.room ? 'Join again' : 'Video call';
    const room = this.#room;
    switch (reason) {
      case 'unreachable':
        // A link's room ID exists only while its room does: a used or old link finds nobody there.
        if (hooks.proved) page.fail('This link has expired. Ring the bell again for a new one.', 'expired');
        else page.fail(`Room ${room} was not found or has expired.`, 'unreachable');
        break;
      case 'no-route':
        page.fail('The door cannot be reached from this network: no connection path was found. '
          + 'Try Wi-Fi or mobile data instead, or ask whoever set up the door to add a TURN relay server '
          + '(ice.turn_servers in its config).', 'no-route');
        break;
      case 'impostor':
        page.fail('This is not the real door: its answer did not prove the room\'s secret. The call was stopped.', 'impostor');
        break;
      case 'declined':
        page.endCall(by, by === 'local' ? 'You declined the call.' : 'The call was declined.', 'declined');
        break;
      case 'busy':
        page.endCall(by, `Busy: room ${room} is already in a call.`, 'busy');
        break;
      case 'timeout':
        page.endCall(by, 'Nobody answered.', 'timeout');
        break;
      case 'full':
        page.endCall(by, 'The visit is full: the door takes no more phones on this call.', 'full');
        break;
      case 'limited':
        page.endCall(by, 'The door has had too many knocks just now. Wait a minute, then try again.', 'limited');
        break;
      case 'closed':
        page.endCall(by, `Room ${room} was closed.`, 'closed');
        break;
      case 'error':
        page.fail(error?.message || 'The call failed.');
        break;
      case 'connection-lost':
        page.endCall('remote', `Connection lost: ${hosting.code ? 'the caller' : 'the door'} stopped answering `
          + '(nothing has arrived for several seconds; its network or power may be down).', 'connection-lost');
        break;
      default:
        if (by === 'local') page.endCall('local', 'You hung up.', reason);
        else page.endCall('remote', 'The other side ended the call.', reason);
        break;
    }
  }
}
