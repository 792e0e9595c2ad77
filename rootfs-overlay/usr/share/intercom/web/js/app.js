// Page wiring: config → signalling → join / create a room → calls, chat and the views.
//
// One PeerJSWire at a time: a random ID from the server, this browser's stable ID while it is paired with a
// door (or pairing), or `intercom-<code>` while this page hosts a room (the same peer-ID scheme as the door,
// so a browser can be "a door" too).

import { Call } from './call.js';
import { ChatStore, MAX_TEXT_CHARS } from './chat-store.js';
import { loadConfig } from './config.js';
import { DataConnection } from './data-connection.js';
import { DoorMessages } from './door-messages.js';
import { openLocalMedia, stopMedia } from './local-media.js';
import { PageState } from './page-state.js';
import { isRingOffer, pairWithDoor, PairingError, RingLink, ringTarget, sendPushSubscription } from './pairing.js';
import { defaultBrowserName, isHomePeerId, PairingStore } from './pairing-store.js';
import { setConnectTimeout } from './peer-link.js';
import { PeerJSWire } from './peerjs-wire.js';
import { RingSound } from './ring-sound.js';
import { parseRoomCode, randomRoomCode, roomPeerId } from './room-code.js';
import { RoomProof } from './room-proof.js';
import { applyRoomTURN, readRoomTURN } from './room-turn.js';
import { copyText, roomLink, shareMessage, shareViaApps } from './share.js';
import { pushUnavailableReason, registerWorker, subscribe, unsubscribe } from './web-push.js';

const CALL_METADATA = Object.freeze({ client: 'intercom-web' });
const RING_TIMEOUT_MS = 45000;
const SWITCH_TIMEOUT_MS = 10000;
const ANSWERER_CHAT_DELAY_MS = 3000;
const CREATE_ATTEMPTS = 5;
const PAIR_TOKEN_KEY = 'intercom.pairToken.';
const PUSH_TIMEOUT_MS = 20000;
const RING_RELINK_GRACE_MS = 2000;

const ui = Object.fromEntries(
  [
    'status', 'signal-banner', 'join-form', 'prompt', 'code-field', 'code', 'join', 'join-audio', 'watch', 'hint',
    'create-panel', 'create', 'history-panel', 'history-log', 'room-code', 'room-link', 'copy-message', 'share',
    'copy-link', 'share-note', 'close-room', 'remote', 'remote-off', 'local', 'timer', 'unmute', 'media-note', 'mute', 'camera',
    'talk', 'chat-toggle', 'chat-unread', 'hangup', 'chat', 'chat-log', 'chat-form', 'chat-input', 'chat-send', 'chat-note',
    'incoming', 'incoming-from', 'answer', 'answer-audio', 'decline',
    'pair-title', 'pair-form', 'pair-name', 'pair', 'pair-result', 'paired-panel', 'paired-text', 'push-note', 'unpair',
    'ringing', 'ringing-title', 'ringing-info', 'ring-answer', 'ring-ignore',
    'door-messages', 'door-messages-log', 'door-message-form', 'door-message-input', 'door-message-note',
  ].map((id) => [id, document.getElementById(id)]),
);

const pageUrl = new URL(window.location.href);
const hooks = (window.intercomTest = {});
const page = new PageState(document.body, ui.status, hooks);
const doorMessages = new DoorMessages(
  { panel: ui['door-messages'], log: ui['door-messages-log'], form: ui['door-message-form'],
    input: ui['door-message-input'], note: ui['door-message-note'] },
  hooks,
  (remoteId) => Boolean(config) && remoteId.startsWith(`${config.roomPrefix}home-`),
);

let config = null;
let configIceServers = []; // config.json's iceServers before a room link's TURN credential is applied
const linkRoom = parseRoomCode(pageUrl.searchParams.get('room')); // from ?room=, when valid
// The link's TURN credential (#…&t=), read before RoomProof.forRoom clears the fragment; or null.
const linkTURN = linkRoom ? readRoomTURN(linkRoom) : null;
// The room secret from the link's #k= fragment (a RoomProof, or null: then the code alone, i.e. a knock).
const linkProof = linkRoom ? RoomProof.forRoom(linkRoom).catch(() => null) : Promise.resolve(null);
let wire = null; // the open (or reconnecting) PeerJSWire, or null
let callProof = null; // the RoomProof the current call was placed with (a link's or a ring's), or null
const pairingStore = new PairingStore();
let pairing = pairingStore.pairing(); // {id, door, home, credential, peerId} once paired, else null
let pairLink = readPairLink(); // {home, token} from ?pair=<home>#p=<token> until it paired, or null
let stableId = null; // this browser's stable peer ID, while paired or pairing
let ringLink = null; // the RingLink whose ring the ringing dialog shows
const ringSound = new RingSound();
let ringExpiry = 0;
let wireOpening = null; // its open() in flight
let hosting = null; // {code, link} while this page hosts a room
let call = null; // the current Call (placed, or answered)
let incoming = null; // a Call waiting in the incoming-call dialog
let switching = null; // the Call replacing a watch-only one (see startTalking)
const replacements = new WeakMap(); // callee side: watch-only Call → the Call answered to replace it
let ringTimer = 0;
let localStream = null;
let callRoom = null; // the room (or peer) the current call's chat is stored under
let chatStore = null;
const dataConnections = new Map(); // remote peer ID → Set<DataConnection>
let answererChatTimer = 0;
let timer = 0;
let connectedAt = 0;
let unread = 0;

page.set('idle');
setSignaling('connecting');
setUpJoinForm();
setUpHostView();
setUpCallView();
setUpIncomingDialog();
setUpPairing();
window.addEventListener('pagehide', () => {
  call?.hangUp();
  incoming?.decline('declined');
  ringLink?.close();
  wire?.close();
});
start();

// --- start and signalling ------------------------------------------------------------------

async function start() {
  if (!(await ensureConfig())) return;
  connectSignaling().catch(() => {}); // connectSignaling shows its own failure
}

async function ensureConfig() {
  if (config) return config;
  try {
    const loaded = await loadConfig(pageUrl);
    configIceServers = loaded.iceServers;
    // TURN servers listed without credentials take the room link's (a page hosted away from the door).
    config = Object.freeze({ ...loaded, iceServers: applyRoomTURN(configIceServers, linkTURN) });
    setConnectTimeout(config.iceTimeoutSeconds * 1000);
  } catch (error) {
    page.fail(error.message);
  }
  return config;
}

function setSignaling(state) {
  hooks.signaling = state;
  document.body.dataset.signaling = state;
  ui['signal-banner'].hidden = state !== 'reconnecting';
}

/** Opens a wire (random ID, or `id`) and listens to it; resolves with it once OPEN. */
function openWire(id = null) {
  const opening = new PeerJSWire(config.signaling, { id });
  opening.addEventListener('offer', (event) => onOffer(opening, event.detail));
  opening.addEventListener('disconnected', () => onSignalingDown(opening));
  opening.addEventListener('reconnected', () => onSignalingUp(opening));
  opening.addEventListener('error', (event) => onSignalingLost(opening, event.detail));
  opening.addEventListener('close', () => onSignalingLost(opening, null));
  return opening.open().then(() => opening);
}

const STABLE_ID_ATTEMPTS = 3;
const STABLE_ID_RETRY_MS = 1000;

/**
 * A paired (or pairing) browser registers under its stable ID. The ID can be held for a moment by this very
 * browser's previous page (a reload); held for longer, another tab has it and this one takes a random ID.
 */
async function openMainWire() {
  stableId = null;
  if (pairing || pairLink) {
    let id = null;
    try {
      id = pairingStore.stablePeerId(config.roomPrefix);
    } catch (error) {
      page.note('ringable', false);
      ui['push-note'].textContent = `This browser cannot keep its pairing: ${error.message}.`;
    }
    for (let attempt = 1; id && attempt <= STABLE_ID_ATTEMPTS; attempt += 1) {
      try {
        const opened = await openWire(id);
        stableId = id;
        page.note('ringable', true);
        return opened;
      } catch (error) {
        if (error.type !== 'unavailable-id') throw error;
        if (attempt < STABLE_ID_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, STABLE_ID_RETRY_MS));
      }
    }
    if (id) {
      page.note('ringable', false);
      ui['push-note'].textContent = 'This browser is open in another tab too: that tab rings.';
    }
  }
  return openWire();
}

function connectSignaling() {
  if (wire) return Promise.resolve(wire);
  if (wireOpening) return wireOpening;
  setSignaling('connecting');
  wireOpening = openMainWire().then(
    (opened) => {
      useWire(opened);
      if (page.state === 'idle' || page.state === 'error') page.set('ready', readyText());
      if (pairLink && hooks.pairing === 'asking') ui.pair.disabled = false;
      return opened;
    },
    (error) => {
      setSignaling('closed');
      page.fail(`Cannot reach the intercom service: ${error.message}`);
      throw error;
    },
  ).finally(() => {
    wireOpening = null;
  });
  return wireOpening;
}

function useWire(opened) {
  const old = wire;
  wire = opened;
  page.note('peerId', opened.id);
  setSignaling('open');
  if (old && old !== opened) old.close();
}

function onSignalingDown(lost) {
  if (lost !== wire) return;
  setSignaling('reconnecting');
  if (!page.inCall) page.say('Connection to the server lost — reconnecting…');
}

function onSignalingUp(back) {
  if (back !== wire) return;
  setSignaling('open');
  if (page.state === 'hosting') page.set('hosting', hostingText());
  else if (page.state === 'ready') page.set('ready', readyText());
}

// Refused, or gone for good: a call in progress carries on peer to peer.
function onSignalingLost(lost, error) {
  if (lost !== wire) return;
  wire = null;
  setSignaling('closed');
  if (hosting) {
    hosting = null;
    document.body.dataset.role = '';
  }
  if (!page.inCall) page.fail(error?.message ?? 'Lost the connection to the intercom service. Press a button to retry.');
}

// --- incoming OFFERs ---------------------------------------------------------------------------

function onOffer(from, { src, payload }) {
  // Under the stable ID only our door gets in — its rings, and its calls (`intercom ctl call`) — and what the
  // peer of this page's call adds to it (its chat, a call replacing a watch-only one).
  if (stableId !== null && from.id === stableId) {
    const fromCallPeer = call && !call.ended && call.remoteId === src;
    if (isRingOffer(pairing, src, payload)) {
      acceptRing(from, src, payload);
    } else if (pairing && src === pairing.home && payload?.type === 'media') {
      offerCall(from, src, payload);
    } else if (fromCallPeer && payload?.type === 'data') {
      acceptDataConnection(from, src, payload);
    } else if (fromCallPeer && payload?.type === 'media' && payload.metadata?.replaces === call.connectionId) {
      try {
        answerReplacement(new Call({ wire: from, iceServers: config.iceServers, offer: { src, payload } }));
      } catch (error) {
        console.warn('intercom: unusable media offer dropped', error);
      }
    } else {
      page.note('ignoredOffers', (hooks.ignoredOffers ?? 0) + 1);
    }
    return;
  }
  if (payload?.type === 'data') {
    acceptDataConnection(from, src, payload);
    return;
  }
  offerCall(from, src, payload);
}

/** A media OFFER: the incoming-call dialog, a replacing call, or busy. */
function offerCall(from, src, payload) {
  if (payload?.type !== 'media' || typeof payload.connectionId !== 'string') return;
  let offered;
  try {
    offered = new Call({ wire: from, iceServers: config.iceServers, offer: { src, payload } });
  } catch (error) {
    console.warn('intercom: unusable media offer dropped', error);
    return;
  }
  const replaces = payload.metadata?.replaces;
  if (call && !call.ended && call.remoteId === src && replaces === call.connectionId) {
    answerReplacement(offered);
  } else if (call || incoming || page.state === 'calling') {
    offered.decline('busy');
  } else {
    showIncoming(offered);
  }
}

function showIncoming(offered) {
  incoming = offered;
  page.startCall('incoming', hosting ? `Incoming call to room ${hosting.code}` : 'Incoming call');
  page.note('remoteId', offered.remoteId);
  ui['incoming-from'].textContent = `From ${describeCaller(offered)}`;
  offered.addEventListener('ended', ({ detail }) => {
    if (incoming !== offered) return;
    closeIncoming();
    // The caller gave up (or the offer was unusable) before anyone answered.
    page.endCall('remote', detail.reason === 'error' ? 'The incoming call failed.' : 'Missed call.', detail.reason,
      idleState());
  });
  ringTimer = setTimeout(() => {
    if (incoming === offered) declineIncoming('No answer: the call was not taken.');
  }, RING_TIMEOUT_MS);
  if (!ui.incoming.open) ui.incoming.showModal();
  ui.answer.focus();
}

function describeCaller(offered) {
  const name = offered.metadata?.name;
  if (typeof name === 'string' && name.trim() !== '') return name.trim().slice(0, 60);
  if (hosting) return `someone with your room code ${hosting.code}`;
  return offered.remoteId.startsWith(config.roomPrefix) ? 'the door' : 'another browser';
}

function closeIncoming() {
  clearTimeout(ringTimer);
  incoming = null;
  if (ui.incoming.open) ui.incoming.close();
}

function declineIncoming(text = 'You declined the call.') {
  const offered = incoming;
  if (!offered) return;
  closeIncoming();
  offered.decline('declined');
  page.endCall('local', text, 'declined', idleState());
}

async function answerIncoming(mode) {
  const offered = incoming;
  if (!offered) return;
  closeIncoming();
  call = offered;
  callProof = null;
  callRoom = hosting?.code ?? offered.remoteId;
  page.startCall('calling', 'Connecting…');
  page.note('callPhase', 'connecting');
  page.note('connectionId', offered.connectionId);
  watchCall(offered);
  const local = await getLocalMedia(mode);
  if (call !== offered || offered.ended) {
    stopMedia(local.stream);
    return;
  }
  useLocalMedia(local, mode);
  await offered.answer(localStream);
}

// --- placing a call ----------------------------------------------------------------------------

async function join(mode) {
  if (page.inCall || page.state === 'incoming' || ui.join.disabled) return;
  const code = linkRoom ?? parseRoomCode(ui.code.value);
  if (!code) {
    ui.hint.textContent = 'Please enter the 5-digit room code.';
    ui.code.focus();
    return;
  }
  if (hosting && code === hosting.code) {
    ui.hint.textContent = 'That is your own room: share it, and others can call you.';
    return;
  }
  setJoinButtonsDisabled(true);
  try {
    await placeCall(code, mode);
  } finally {
    setJoinButtonsDisabled(false);
  }
}

function setJoinButtonsDisabled(disabled) {
  for (const id of ['join', 'join-audio', 'watch', 'create']) ui[id].disabled = disabled;
}

async function placeCall(code, mode, givenProof = undefined) {
  if (!(await ensureConfig())) return;
  // With the link's secret: the room's own peer ID, and a proof in the offer. Without: the code's
  // peer ID, where the door treats the call as a knock someone must let in.
  const proof = givenProof !== undefined ? givenProof : code === linkRoom ? await linkProof : null;
  let remoteId;
  try {
    remoteId = proof ? proof.roomPeerId(config.roomPrefix) : roomPeerId(config.roomPrefix, code);
  } catch (error) {
    page.fail(error.message);
    return;
  }
  page.note('proved', proof !== null);
  callProof = proof;
  let signaling;
  try {
    signaling = await connectSignaling();
  } catch {
    return;
  }

  page.startCall('calling', mode === 'watch' ? 'Connecting…' : 'Starting camera and microphone…');
  page.note('callPhase', 'connecting');
  page.note('remoteId', remoteId);
  page.note('room', code);
  callRoom = code;
  const local = await getLocalMedia(mode);
  if (page.state !== 'calling') {
    stopMedia(local.stream); // hung up while the browser was asking
    return;
  }
  useLocalMedia(local, mode);

  const placed = new Call({ wire: signaling, remoteId, iceServers: config.iceServers, metadata: CALL_METADATA, proof });
  call = placed;
  page.note('connectionId', placed.connectionId);
  watchCall(placed);
  placed.addEventListener('answered', () => {
    if (call === placed && page.state === 'calling') {
      page.note('callPhase', 'connecting');
      page.say('Answered — connecting…');
    }
  });
  page.say('Connecting…');
  await placed.start(localStream);
  if (call === placed && !placed.ended && !placed.answered) {
    page.note('callPhase', 'ringing');
    page.say(`Ringing room ${code}…`);
  }
}

function watchCall(active) {
  active.addEventListener('remotestream', (event) => {
    if (call === active) showRemote(event.detail);
  });
  active.addEventListener('connected', () => {
    if (call === active) onConnected(active);
  });
  active.addEventListener('connectionstate', (event) => {
    if (call !== active || page.state !== 'in-call') return;
    if (event.detail === 'disconnected') page.say('The connection is unstable…');
    if (event.detail === 'connected') page.say(inCallText());
  });
  active.addEventListener('ended', (event) => {
    if (call !== active) return;
    // The caller of a switch to talking may connect first and hang up this call before our side
    // of the replacement connects: the replacement carries on as the call (if it fails after
    // all, its own end ends the call).
    const next = replacements.get(active);
    if (next && !next.ended) swapCall(active, next, null, hooks.mediaMode, false);
    else onCallEnded(event.detail);
  });
}

function onConnected(active) {
  if (page.state === 'calling') page.set('in-call', inCallText());
  page.note('callPhase', 'connected');
  if (!connectedAt) {
    connectedAt = Date.now();
    timer = setInterval(showDuration, 1000);
    showDuration();
    pictureWatch = setInterval(watchPicture, PICTURE_CHECK_MS);
  }
  openChat(active);
}

function hangUp() {
  if (!page.inCall) return;
  page.noteHangup();
  if (call) {
    call.hangUp(); // → onCallEnded
  } else {
    page.endCall('local', 'You hung up.', 'hangup', afterCallState());
  }
}

function onCallEnded({ by, reason, error }) {
  const ended = call;
  call = null;
  switching?.hangUp();
  switching = null;
  stopTimer();
  stopMedia(localStream);
  localStream = null;
  ui.local.srcObject = null;
  ui.remote.srcObject = null;
  ui.remote.muted = false;
  ui.unmute.hidden = true;
  ui.talk.hidden = true;
  closeChat(ended?.remoteId);
  ui.join.textContent = linkRoom ? 'Join again' : 'Video call';
  const room = callRoom;
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
      page.endCall(by, by === 'local' ? 'You declined the call.' : 'The call was declined.', 'declined', afterCallState());
      break;
    case 'busy':
      page.endCall(by, `Busy: room ${room} is already in a call.`, 'busy', afterCallState());
      break;
    case 'timeout':
      page.endCall(by, 'Nobody answered.', 'timeout', afterCallState());
      break;
    case 'limited':
      page.endCall(by, 'The door has had too many knocks just now. Wait a minute, then try again.', 'limited',
        afterCallState());
      break;
    case 'closed':
      page.endCall(by, `Room ${room} was closed.`, 'closed', afterCallState());
      break;
    case 'error':
      page.fail(error?.message || 'The call failed.');
      break;
    case 'connection-lost':
      page.endCall('remote', `Connection lost: ${hosting ? 'the caller' : 'the door'} stopped answering `
        + '(nothing has arrived for several seconds; its network or power may be down).', 'connection-lost',
      afterCallState());
      break;
    default:
      if (by === 'local') page.endCall('local', 'You hung up.', reason, afterCallState());
      else page.endCall('remote', 'The other side ended the call.', reason, afterCallState());
      break;
  }
}

function afterCallState() {
  return 'ended';
}

function idleState() {
  return hosting ? 'hosting' : 'ready';
}

// --- local media -----------------------------------------------------------------------------

/** mode: 'video' (camera + microphone, with fallbacks), 'audio', or 'watch' (never asks). */
async function getLocalMedia(mode) {
  if (mode === 'watch') return { stream: new MediaStream(), kind: 'none', problem: null };
  if (mode === 'audio') {
    if (!navigator.mediaDevices?.getUserMedia) {
      return { stream: new MediaStream(), kind: 'none', problem: 'The microphone needs a secure (https) page.' };
    }
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: true }), kind: 'audio', problem: null };
    } catch (error) {
      const problem = error?.name === 'NotAllowedError' ? 'The microphone is blocked.' : 'No microphone available.';
      return { stream: new MediaStream(), kind: 'none', problem };
    }
  }
  return openLocalMedia();
}

function useLocalMedia(local, mode) {
  localStream = local.stream;
  page.note('localMedia', local.kind);
  page.note('mediaMode', mode);
  ui.local.srcObject = localStream;
  ui.local.hidden = !local.kind.includes('video');
  ui['media-note'].textContent = mediaNote(local, mode);
  ui.talk.hidden = local.kind !== 'none';
  updateMediaButtons();
}

function mediaNote({ kind, problem }, mode) {
  switch (kind) {
    case 'audio+video':
      return '';
    case 'audio':
      return mode === 'audio' ? '' : `${problem} The other side can hear you but not see you.`;
    case 'video':
      return `${problem} The other side can see you but not hear you.`;
    default:
      return mode === 'watch' && !problem
        ? 'Watching only: the other side cannot see or hear you. Press Talk to join in.'
        : `${problem} You are watching only: the other side cannot see or hear you.`;
  }
}

function updateMediaButtons() {
  const audio = localStream?.getAudioTracks() ?? [];
  const video = localStream?.getVideoTracks() ?? [];
  const muted = audio.length > 0 && audio.every((track) => !track.enabled);
  const cameraOff = video.length > 0 && video.every((track) => !track.enabled);
  ui.mute.disabled = audio.length === 0;
  ui.mute.setAttribute('aria-pressed', String(muted));
  ui.mute.textContent = muted ? 'Unmute' : 'Mute';
  ui.camera.disabled = video.length === 0;
  ui.camera.setAttribute('aria-pressed', String(cameraOff));
  ui.camera.textContent = cameraOff ? 'Camera on' : 'Camera off';
  ui.local.classList.toggle('off', cameraOff);
  page.note('muted', muted);
  page.note('cameraOff', cameraOff);
}

function toggleTracks(tracks) {
  if (tracks.length === 0) return;
  const enable = tracks.every((track) => !track.enabled);
  for (const track of tracks) track.enabled = enable;
  updateMediaButtons();
}

/**
 * Watch-only → talking. PeerJS has no renegotiation (an offer fixes the m-lines for good), so
 * this places a second call to the same peer with camera and microphone, its metadata saying
 * {replaces: <the watch-only call's connectionId>}; this page answers such a call at once
 * (no ringing). Once the new call connects, the watch-only one is hung up. A peer that does not
 * take the replacing call (a stock PeerJS app may ask its user; the door may refuse a second
 * caller) leaves the watch-only call as it was, with a message.
 */
async function startTalking() {
  const current = call;
  if (!current || switching || page.state !== 'in-call') return;
  ui.talk.disabled = true;
  const local = await openLocalMedia();
  ui.talk.disabled = false;
  if (local.kind === 'none') {
    ui['media-note'].textContent = `${local.problem} Allow camera or microphone for this page, then press Talk again.`;
    return;
  }
  if (call !== current) {
    stopMedia(local.stream);
    return;
  }
  const replacement = new Call({
    wire: wire ?? current.wire,
    remoteId: current.remoteId,
    iceServers: config.iceServers,
    metadata: { ...CALL_METADATA, replaces: current.connectionId },
    proof: callProof,
  });
  switching = replacement;
  ui['media-note'].textContent = 'Switching to talking…';
  const giveUp = setTimeout(() => replacement.hangUp(), SWITCH_TIMEOUT_MS);
  replacement.addEventListener('connected', () => {
    clearTimeout(giveUp);
    if (switching !== replacement || call !== current) return;
    switching = null;
    swapCall(current, replacement, local, local.kind.includes('video') ? 'video' : 'audio');
  });
  replacement.addEventListener('ended', () => {
    clearTimeout(giveUp);
    if (switching !== replacement) return;
    switching = null;
    stopMedia(local.stream);
    ui['media-note'].textContent =
      'The other side did not take the switch. Still watching only: hang up and call again to talk.';
  });
  await replacement.start(local.stream);
}

/** The callee's side of startTalking(): answer the replacing call with what we already send. */
function answerReplacement(replacement) {
  const current = call;
  watchCallSwitch(current, replacement);
  replacement.answer(localStream ?? new MediaStream());
}

function watchCallSwitch(current, replacement) {
  replacement.addEventListener('connected', () => {
    if (call !== current) return;
    // The caller hangs up the watch-only call once its side is connected too; closing it
    // from here could beat the caller's own 'connected' and end its call.
    swapCall(current, replacement, null, hooks.mediaMode, false);
  });
  replacements.set(current, replacement);
}

function swapCall(old, replacement, local, mode, hangUpOld = true) {
  call = replacement;
  page.note('connectionId', replacement.connectionId);
  watchCall(replacement);
  const tracks = replacement.pc.getReceivers().map((receiver) => receiver.track).filter(Boolean);
  if (tracks.length > 0) showRemote(new MediaStream(tracks));
  if (local) {
    stopMedia(localStream);
    useLocalMedia(local, mode);
  }
  if (hangUpOld) old.hangUp();
  page.say(inCallText());
}

// --- in call -----------------------------------------------------------------------------------

function showRemote(stream) {
  if (ui.remote.srcObject !== stream) ui.remote.srcObject = stream;
  ui.remote.play().catch((error) => {
    if (error.name !== 'NotAllowedError') return; // AbortError when the source changes: harmless
    // Autoplay with sound refused: play muted and offer a button for the sound.
    ui.remote.muted = true;
    ui.unmute.hidden = false;
    ui.remote.play().catch(() => {});
  });
}

function unmuteRemote() {
  ui.remote.muted = false;
  ui.unmute.hidden = true;
  ui.remote.play().catch(() => {});
}

function showDuration() {
  const seconds = Math.max(0, Math.floor((Date.now() - connectedAt) / 1000));
  page.note('durationSeconds', seconds);
  ui.timer.textContent = formatDuration(seconds);
}

export function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// The other side's picture: when no new frame arrives for a while (the door turned its camera off — a
// valve, no renegotiation — or the video stalled), a placeholder covers the frozen last frame.
const PICTURE_CHECK_MS = 250;
const PICTURE_STALL_MS = 1500;
let pictureWatch = 0;
let lastFrameCount = -1;
let lastFrameAt = 0;

function watchPicture() {
  const stream = ui.remote.srcObject;
  const hasVideo = !!stream && stream.getVideoTracks().some((track) => track.readyState === 'live');
  const frames = ui.remote.getVideoPlaybackQuality ? ui.remote.getVideoPlaybackQuality().totalVideoFrames : 0;
  const now = Date.now();
  if (frames !== lastFrameCount) {
    lastFrameCount = frames;
    lastFrameAt = now;
  }
  const off = hasVideo && frames > 0 && now - lastFrameAt >= PICTURE_STALL_MS;
  if (off !== !ui['remote-off'].hidden) {
    ui['remote-off'].hidden = !off;
    page.note('remoteVideoOff', off);
  }
}

function stopTimer() {
  clearInterval(pictureWatch);
  pictureWatch = 0;
  lastFrameCount = -1;
  ui['remote-off'].hidden = true;
  page.note('remoteVideoOff', false);
  clearInterval(timer);
  timer = 0;
  connectedAt = 0;
  ui.timer.textContent = '0:00';
}

// --- chat over a PeerJS data connection --------------------------------------------------------
//
// Messages are BinaryPack maps {t: 'chat', text} (and {t: 'status', …} from the door), the same
// protocol as the device. The caller opens the data connection when the call connects; the
// answerer opens one itself if none arrived within a few seconds (a caller that has no chat).

function openChat(active) {
  chatStore = new ChatStore(callRoom ?? active.remoteId);
  renderChat(ui['chat-log'], chatStore.load());
  page.note('chatOpen', hasOpenData(active.remoteId));
  updateChatNote(active.remoteId);
  clearTimeout(answererChatTimer);
  if (active.isOfferer) {
    connectData(active.remoteId);
  } else {
    answererChatTimer = setTimeout(() => {
      if (call?.remoteId === active.remoteId && !hasData(active.remoteId)) connectData(active.remoteId);
    }, ANSWERER_CHAT_DELAY_MS);
  }
}

function connectData(remoteId) {
  const from = wire ?? call?.wire;
  if (!from) return;
  const conn = new DataConnection({
    wire: from,
    remoteId,
    iceServers: config.iceServers,
    reliable: true,
    serialization: 'binary',
    metadata: { purpose: 'chat' },
  });
  trackData(conn);
  conn.start();
}

// For suites/e2e/test_data_serializations.py: one more data connection to the current call's peer with
// other options ({serialization, jsonText}), tracked like the chat's own. Not enumerable, so the hooks
// the tests read back as JSON stay plain data.
Object.defineProperty(hooks, 'openDataConnection', {
  value: (options) => {
    const from = wire ?? call?.wire;
    if (!from || !call) return null;
    const conn = new DataConnection({ wire: from, remoteId: call.remoteId, iceServers: config.iceServers, ...options });
    trackData(conn);
    conn.start();
    return conn;
  },
});

function acceptDataConnection(from, src, payload) {
  let conn;
  try {
    conn = new DataConnection({ wire: from, iceServers: config.iceServers, offer: { src, payload } });
  } catch (error) {
    console.warn('intercom: data connection refused', error);
    return;
  }
  trackData(conn);
  conn.answer();
}

function trackData(conn) {
  const set = dataConnections.get(conn.remoteId) ?? new Set();
  set.add(conn);
  dataConnections.set(conn.remoteId, set);
  conn.addEventListener('open', () => updateChatNote(conn.remoteId));
  conn.addEventListener('data', (event) => onData(conn, event.detail));
  conn.addEventListener('ended', () => {
    doorMessages.ended(conn);
    set.delete(conn);
    if (set.size === 0) dataConnections.delete(conn.remoteId);
    updateChatNote(conn.remoteId);
  });
}

function hasData(remoteId) {
  return (dataConnections.get(remoteId)?.size ?? 0) > 0;
}

function openData(remoteId) {
  for (const conn of dataConnections.get(remoteId) ?? []) if (conn.open) return conn;
  return null;
}

function hasOpenData(remoteId) {
  return openData(remoteId) !== null;
}

function closeChat(remoteId) {
  clearTimeout(answererChatTimer);
  for (const conn of [...(dataConnections.get(remoteId) ?? [])]) conn.close();
  chatStore = null;
  page.note('chatOpen', false);
}

function updateChatNote(remoteId) {
  if (call?.remoteId !== remoteId) return;
  const open = hasOpenData(remoteId);
  page.note('chatOpen', open);
  ui['chat-send'].disabled = !open;
  ui['chat-note'].textContent = open ? '' : 'Chat is connecting…';
}

function onData(conn, value) {
  const remoteId = conn.remoteId;
  if (call?.remoteId !== remoteId || !chatStore) {
    doorMessages.receive(conn, value); // outside a call: only the door's messages are shown
    return;
  }
  if (value === null || typeof value !== 'object') return;
  let entry = null;
  if (value.t === 'chat' && typeof value.text === 'string' && value.text.trim() !== '') {
    entry = chatStore.append('them', value.text);
  } else if (value.t === 'status') {
    const text = typeof value.text === 'string' ? value.text : describeStatus(value);
    if (text) entry = chatStore.append('status', text);
  }
  if (!entry) return;
  appendChat(ui['chat-log'], entry);
  if (ui.chat.hidden) {
    unread += 1;
    ui['chat-unread'].textContent = String(unread);
    ui['chat-unread'].hidden = false;
  }
}

function describeStatus(value) {
  const parts = Object.entries(value)
    .filter(([key, item]) => key !== 't' && ['string', 'number', 'boolean'].includes(typeof item))
    .map(([key, item]) => `${key}: ${item}`);
  return parts.length ? `Status — ${parts.join(', ')}` : '';
}

function sendChat() {
  const text = ui['chat-input'].value.trim().slice(0, MAX_TEXT_CHARS);
  if (!text || !call || !chatStore) return;
  const conn = openData(call.remoteId);
  if (!conn || !conn.send({ t: 'chat', text })) {
    ui['chat-note'].textContent = 'Not sent: chat is not connected.';
    return;
  }
  appendChat(ui['chat-log'], chatStore.append('me', text));
  ui['chat-input'].value = '';
}

function renderChat(list, entries) {
  list.replaceChildren();
  for (const entry of entries) appendChat(list, entry);
}

function appendChat(list, entry) {
  const item = document.createElement('li');
  item.className = `message ${entry.from}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = entry.from === 'me' ? 'You' : entry.from === 'them' ? 'Them' : 'Status';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = entry.text;
  const time = document.createElement('time');
  time.dateTime = new Date(entry.at).toISOString();
  time.textContent = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  item.append(who, text, time);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function toggleChat() {
  const show = ui.chat.hidden;
  ui.chat.hidden = !show;
  ui['chat-toggle'].setAttribute('aria-expanded', String(show));
  document.body.classList.toggle('chat-open', show);
  if (show) {
    unread = 0;
    ui['chat-unread'].hidden = true;
    ui['chat-input'].focus();
  }
}

// --- hosting a room ----------------------------------------------------------------------------

async function createRoom() {
  if (page.inCall || hosting || ui.create.disabled) return;
  if (!(await ensureConfig())) return;
  setJoinButtonsDisabled(true);
  page.say('Creating a room…');
  try {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
      const code = randomRoomCode();
      let opened;
      try {
        opened = await openWire(roomPeerId(config.roomPrefix, code));
      } catch (error) {
        if (error.type === 'unavailable-id') continue; // that code is in use: draw another
        page.fail(`Could not create a room: ${error.message}`);
        return;
      }
      useWire(opened);
      hosting = { code, link: roomLink(pageUrl, code) };
      document.body.dataset.role = 'host';
      page.note('room', code);
      page.note('role', 'host');
      ui['room-code'].textContent = code;
      ui['room-link'].textContent = hosting.link;
      ui['room-link'].href = hosting.link;
      ui['share-note'].textContent = '';
      page.set('hosting', hostingText());
      return;
    }
    page.fail('Could not create a room: every code tried was taken. Try again.');
  } finally {
    setJoinButtonsDisabled(false);
  }
}

function closeRoom() {
  if (!hosting || page.inCall) return;
  hosting = null;
  document.body.dataset.role = '';
  page.note('role', null);
  page.note('room', null);
  const old = wire;
  wire = null;
  old?.close();
  page.set('idle', 'Closing the room…');
  connectSignaling().catch(() => {});
}

async function share(kind) {
  if (!hosting) return;
  const { code, link } = hosting;
  const message = shareMessage(link, code);
  let note;
  if (kind === 'apps') {
    const result = await shareViaApps({ title: 'Join my video call', text: message, url: link });
    note = { shared: 'Shared.', copied: 'No share menu here: the message was copied instead.', cancelled: '', failed: 'Could not share or copy.' }[result];
    page.note('lastShare', result);
  } else {
    const copied = await copyText(kind === 'link' ? link : message);
    note = copied ? (kind === 'link' ? 'Link copied.' : 'Message copied.') : 'Could not copy: select the link and copy it by hand.';
    page.note('lastShare', copied ? `copied-${kind}` : 'failed');
  }
  ui['share-note'].textContent = note;
}

// --- paired browsers: pairing, rings, notifications ---------------------------------------------
//
// ?pair=<home ID>#p=<token> (the door's pairing QR) asks "Pair this browser with the door?". The token moves
// from the address bar to this tab's sessionStorage at once (a reload still works) and is dropped once used.
// A paired browser registers under its stable ID while open, takes ring links from its door only, and
// subscribes to Web Push where the browser can (secure page, service worker, PushManager).

const PAIR_REFUSALS = Object.freeze({
  used: 'This pairing code was already used. Long-press the doorbell for a new one, then scan it again.',
  expired: 'This pairing code has expired. Long-press the doorbell for a new one, then scan it again.',
  proof: 'The door could not verify this browser. Scan the pairing code on the door again.',
  impostor: 'This is not the door you scanned. Nothing was stored.',
  unreachable: 'The door is unreachable. Is this phone on the same network as the door?',
  timeout: 'The door did not answer. Is this phone on the same network as the door?',
  closed: 'The door closed the connection without pairing. Scan the pairing code again.',
});

function readPairLink() {
  const home = pageUrl.searchParams.get('pair');
  if (home === null) return null;
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  let token = fragment.get('p');
  if (token !== null) {
    try { sessionStorage.setItem(PAIR_TOKEN_KEY + home, token); } catch { /* private mode: this load works */ }
    history.replaceState(history.state, '', window.location.pathname + window.location.search);
  } else {
    try { token = sessionStorage.getItem(PAIR_TOKEN_KEY + home); } catch { token = null; }
  }
  return { home, token };
}

function forgetPairToken(home) {
  try { sessionStorage.removeItem(PAIR_TOKEN_KEY + home); } catch { /* nothing stored */ }
}

function setUpPairing() {
  ui.unpair.addEventListener('click', unpair);
  ui['ring-answer'].addEventListener('click', answerRing);
  ui['ring-ignore'].addEventListener('click', () => ignoreRing());
  ui.ringing.addEventListener('cancel', (event) => {
    event.preventDefault();
    ignoreRing();
  });
  showPaired();
  if (!pairLink) return;
  document.body.dataset.role = 'pair';
  page.note('pairing', 'asking');
  ui['pair-name'].value = defaultBrowserName();
  ui.pair.disabled = true; // until signaling is open
  if (!isHomePeerId(pairLink.home) || !pairLink.token) {
    pairFailed('invalid', 'This pairing link is not complete. Scan the pairing code on the door again.');
    ui['pair-form'].hidden = true;
    return;
  }
  if (pairing?.home === pairLink.home) {
    ui['pair-title'].textContent = `This browser is already paired with ${pairing.door}. Pair it again?`;
  }
  ui['pair-form'].addEventListener('submit', (event) => {
    event.preventDefault();
    // Browsers ask for notification permission only inside a tap: ask now, use the answer after pairing.
    const permission = pushUnavailableReason() === null ? Notification.requestPermission() : null;
    permission?.catch(() => {});
    pairThisBrowser(permission);
  });
}

async function pairThisBrowser(permission) {
  if (ui.pair.disabled || !pairLink) return;
  const signaling = await connectSignaling().catch(() => null);
  if (!signaling) return;
  let peerId;
  try {
    peerId = pairingStore.stablePeerId(config.roomPrefix);
  } catch (error) {
    pairFailed('error', `This browser cannot be paired: ${error.message}.`);
    return;
  }
  if (signaling.id !== peerId) {
    // The door rings the ID the pairing came from, so it must be this browser's stable one.
    pairFailed('other-tab', 'This browser has the door\'s page open in another tab: close it, then reload this page.');
    ui.pair.disabled = false;
    return;
  }
  const name = ui['pair-name'].value.trim().slice(0, 60) || defaultBrowserName();
  ui.pair.disabled = true;
  ui['pair-name'].disabled = true;
  ui['pair-result'].className = 'pair-result';
  ui['pair-result'].textContent = 'Pairing…';
  page.note('pairing', 'pairing');
  page.say('Pairing with the door…');
  let result;
  try {
    result = await pairWithDoor({ wire: signaling, home: pairLink.home, token: pairLink.token, name, peerId,
                                  iceServers: config.iceServers });
  } catch (error) {
    const reason = error instanceof PairingError ? error.reason : 'error';
    // The token is spent (or was never good) unless the door could not be reached.
    if (!['unreachable', 'timeout'].includes(reason)) forgetPairToken(pairLink.home);
    pairFailed(reason, PAIR_REFUSALS[reason] ?? `The door refused the pairing (${reason}).`);
    return;
  }
  forgetPairToken(pairLink.home);
  pairLink = null;
  pairing = result.pairing;
  pairingStore.save(pairing);
  page.note('pairing', 'paired');
  // The pairing link has done its work: the page becomes the ordinary one, registered under the stable ID.
  history.replaceState(history.state, '', window.location.pathname);
  document.body.dataset.role = '';
  ui['push-note'].textContent = 'Turning on notifications…';
  showPaired();
  page.set('ready', `Paired with ${pairing.door}.`);
  await sendSubscription(result, permission);
  result.connection.close();
}

function pairFailed(reason, text) {
  page.note('pairing', 'refused');
  page.note('pairRefusal', reason);
  ui['pair-result'].className = 'pair-result refused';
  ui['pair-result'].textContent = text;
  ui['pair-name'].disabled = false;
  // A spent or broken link cannot be tried again; an unreachable door can.
  ui.pair.disabled = !['unreachable', 'timeout'].includes(reason);
  page.say('Not paired.');
}

/** Subscribes to Web Push with the door's key and sends the subscription on the pairing connection. */
async function sendSubscription({ vapidPublicKey, connection }, permission) {
  const unavailable = pushUnavailableReason();
  let note;
  if (unavailable) {
    note = unavailable;
    page.note('push', 'unavailable');
  } else if (!vapidPublicKey) {
    note = 'Open this page to be rung: the door does not send notifications.';
    page.note('push', 'off');
  } else {
    try {
      const subscription = await Promise.race([
        subscribe(vapidPublicKey, permission ?? Notification.requestPermission()),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the notification setup took too long')), PUSH_TIMEOUT_MS)),
      ]);
      const sent = sendPushSubscription(connection, subscription);
      note = sent
        ? 'Notifications are on: this browser rings even when this page is closed.'
        : 'Open this page to be rung: the notification setup did not reach the door.';
      page.note('push', sent ? 'subscribed' : 'failed');
    } catch (error) {
      note = `Open this page to be rung: ${error.message}.`;
      page.note('push', 'failed');
    }
  }
  ui['push-note'].textContent = note;
}

function showPaired() {
  page.note('paired', pairing !== null);
  page.note('pairedDoor', pairing?.door ?? null);
  ui['paired-panel'].hidden = pairing === null;
  if (!pairing) return;
  ui['paired-text'].textContent = `Paired with ${pairing.door} — this browser rings when someone is at the door`;
  if (ui['push-note'].textContent === '') describePush();
}

async function describePush() {
  const unavailable = pushUnavailableReason();
  if (unavailable) {
    ui['push-note'].textContent = unavailable;
    page.note('push', 'unavailable');
    return;
  }
  try {
    const registration = await registerWorker();
    const subscribed = (await registration.pushManager.getSubscription()) !== null;
    page.note('push', subscribed ? 'subscribed' : 'off');
    if (ui['push-note'].textContent === '') {
      ui['push-note'].textContent = subscribed
        ? 'Notifications are on: this browser rings even when this page is closed.'
        : 'Open this page to be rung: notifications are off (pair again to turn them on).';
    }
  } catch (error) {
    page.note('push', 'unavailable');
    ui['push-note'].textContent = `Open this page to be rung: notifications are unavailable (${error.message}).`;
  }
}

async function unpair() {
  if (!pairing) return;
  const door = pairing.door;
  pairingStore.forget();
  pairing = null;
  ringLink?.close();
  closeRinging();
  ui['push-note'].textContent = '';
  showPaired();
  page.say(`This browser no longer rings for ${door}.`);
  // Leave the stable ID: an unpaired browser is reachable only under a random one.
  if (stableId !== null && !page.inCall && !hosting) {
    const old = wire;
    wire = null;
    old?.close();
    connectSignaling().catch(() => {});
  }
  await unsubscribe().catch((error) => console.warn('intercom: push unsubscribe failed', error));
}

function acceptRing(from, src, payload) {
  let link;
  try {
    link = new RingLink({ wire: from, pairing, offer: { src, payload }, iceServers: config.iceServers });
  } catch (error) {
    console.warn('intercom: unusable ring offer dropped', error);
    return;
  }
  link.addEventListener('ring', ({ detail }) => onRing(link, detail));
  link.addEventListener('over', ({ detail }) => onRingOver(link, detail.reason));
  // A ring link that closes without ring-over: the door rang again (a new link follows at once) or went away.
  link.addEventListener('ended', () => {
    if (ringLink !== link) return;
    clearTimeout(ringExpiry);
    ringExpiry = setTimeout(() => {
      if (ringLink === link) onRingOver(link, 'missed');
    }, RING_RELINK_GRACE_MS);
  });
  link.answer();
}

function onRing(link, ring) {
  // Busy here (a call, another live ring, the incoming-call dialog): the door rings the others.
  if (page.inCall || incoming || (ringLink && ringLink !== link && !ringLink.connection.ended)) {
    link.close();
    return;
  }
  ringLink = link;
  setRing({ state: 'ringing', door: ring.door, code: ring.code, expiresAt: ring.expiresAt });
  ui['ringing-title'].textContent = `${ring.door} is ringing`;
  ui['ringing-info'].textContent = `Room ${ring.code}`;
  if (!ui.ringing.open) ui.ringing.showModal();
  ui['ring-answer'].focus();
  page.say(`${ring.door} is ringing`);
  ringSound.start().then((sound) => page.note('ringSound', sound));
  clearTimeout(ringExpiry);
  ringExpiry = setTimeout(() => {
    if (ringLink === link) onRingOver(link, 'missed');
  }, Math.max(0, ring.expiresAt - Date.now()));
}

function onRingOver(link, reason) {
  if (ringLink !== link) return;
  closeRinging();
  link.close();
  setRing({ ...hooks.ring, state: reason });
  if (!page.inCall) page.say(reason === 'answered-elsewhere' ? 'Answered elsewhere' : 'Missed ring');
}

function closeRinging() {
  clearTimeout(ringExpiry);
  ringSound.stop();
  ringLink = null;
  if (ui.ringing.open) ui.ringing.close();
}

function setRing(ring) {
  page.note('ring', ring);
}

async function answerRing() {
  const link = ringLink;
  const ring = link?.ring;
  if (!ring) return;
  closeRinging();
  setRing({ ...hooks.ring, state: 'answered' });
  link.close();
  const target = ringTarget(ring.link);
  const proof = target ? await RoomProof.fromSecretText(target.secret) : null;
  if (!proof) {
    page.fail('The ring carried no usable link.');
    return;
  }
  if (target.turn && config) {
    // The ring's join link carries this ring's TURN credential too (a page hosted away from the door).
    config = Object.freeze({ ...config, iceServers: applyRoomTURN(configIceServers, target.turn) });
  }
  await placeCall(target.code, 'video', proof);
}

function ignoreRing() {
  const link = ringLink;
  if (!link) return;
  closeRinging();
  link.close();
  setRing({ ...hooks.ring, state: 'ignored' });
  page.say('Ring ignored.');
}

// --- texts -------------------------------------------------------------------------------------

function readyText() {
  if (document.body.dataset.role === 'pair') return 'Ready to pair.';
  return linkRoom ? `Room ${linkRoom}` : 'Call a room, or create one.';
}

function hostingText() {
  return hosting ? `Room ${hosting.code} is open. Waiting for someone to join…` : 'Waiting…';
}

function inCallText() {
  return callRoom ? `In call — room ${callRoom}` : 'In call';
}

// --- setup -------------------------------------------------------------------------------------

function setUpJoinForm() {
  const roomParam = pageUrl.searchParams.get('room');
  if (linkRoom) {
    ui.code.value = linkRoom;
    ui['code-field'].hidden = true;
    ui['create-panel'].hidden = true;
    ui.prompt.textContent = `Join room ${linkRoom} now?`;
    ui.join.textContent = 'Join now';
    const history = new ChatStore(linkRoom).load();
    if (history.length > 0) {
      renderChat(ui['history-log'], history);
      ui['history-panel'].hidden = false;
    }
  } else if (roomParam !== null) {
    ui.hint.textContent = 'This link has no valid room code. Type the 5 digits you were given.';
  }
  ui.code.addEventListener('input', () => {
    const digits = ui.code.value.replace(/\D/g, '').slice(0, 5);
    if (digits !== ui.code.value) ui.code.value = digits;
    ui.hint.textContent = '';
  });
  ui['join-form'].addEventListener('submit', (event) => {
    event.preventDefault();
    join('video');
  });
  ui['join-audio'].addEventListener('click', () => join('audio'));
  ui.watch.addEventListener('click', () => join('watch'));
  ui.create.addEventListener('click', createRoom);
}

function setUpHostView() {
  ui['copy-message'].addEventListener('click', () => share('message'));
  ui['copy-link'].addEventListener('click', () => share('link'));
  ui.share.addEventListener('click', () => share('apps'));
  ui['close-room'].addEventListener('click', closeRoom);
}

function setUpCallView() {
  ui.hangup.addEventListener('click', hangUp);
  ui.unmute.addEventListener('click', unmuteRemote);
  ui.mute.addEventListener('click', () => toggleTracks(localStream?.getAudioTracks() ?? []));
  ui.camera.addEventListener('click', () => toggleTracks(localStream?.getVideoTracks() ?? []));
  ui.talk.addEventListener('click', startTalking);
  ui['chat-toggle'].addEventListener('click', toggleChat);
  ui['chat-form'].addEventListener('submit', (event) => {
    event.preventDefault();
    sendChat();
  });
  ui.remote.addEventListener('playing', () => {
    if (page.state === 'calling' && call?.answered !== false) page.set('in-call', inCallText());
  });
  document.addEventListener('keydown', (event) => {
    if (!page.inCall || event.target instanceof HTMLInputElement) return;
    if (event.key === 'm') ui.mute.click();
  });
}

function setUpIncomingDialog() {
  ui.answer.addEventListener('click', () => answerIncoming('video'));
  ui['answer-audio'].addEventListener('click', () => answerIncoming('audio'));
  ui.decline.addEventListener('click', () => declineIncoming());
  // Escape must not silently drop a ringing call: it declines, as the button says.
  ui.incoming.addEventListener('cancel', (event) => {
    event.preventDefault();
    declineIncoming();
  });
}
