// Page wiring: config → signalling → join form → call → the two <video> elements.

import { Call } from './call.js';
import { loadConfig } from './config.js';
import { openLocalMedia, stopMedia } from './local-media.js';
import { PageState } from './page-state.js';
import { PeerJSWire } from './peerjs-wire.js';
import { parseRoomCode, roomPeerId } from './room-code.js';

const CALL_METADATA = Object.freeze({ client: 'intercom-web' });
const UNREACHABLE_TEXT = 'The door is not reachable';

const ui = Object.fromEntries(
  ['status', 'join-form', 'prompt', 'code-field', 'code', 'join', 'hint', 'remote', 'local', 'unmute', 'media-note', 'hangup']
    .map((id) => [id, document.getElementById(id)]),
);

const pageUrl = new URL(window.location.href);
const page = new PageState(document.body, ui.status, (window.intercomTest = {}));

let config = null;
let roomCode = null; // from ?room=, when valid
let wire = null; // the open PeerJSWire, or null
let wireOpening = null; // its open() in flight
let call = null;
let localStream = null;
let joining = false;

page.set('idle');
setUpJoinForm(pageUrl.searchParams.get('room'));
ui.hangup.addEventListener('click', hangUp);
ui.unmute.addEventListener('click', unmute);
ui.remote.addEventListener('playing', () => {
  if (page.state === 'calling') page.set('in-call');
});
window.addEventListener('pagehide', () => {
  call?.hangUp();
  wire?.close();
});
start();

async function start() {
  if (!(await ensureConfig())) return;
  connectSignaling().catch(() => {}); // connectSignaling shows its own failure
}

async function ensureConfig() {
  if (config) return config;
  try {
    config = await loadConfig(pageUrl);
  } catch (error) {
    page.fail(error.message);
  }
  return config;
}

function setUpJoinForm(roomParam) {
  roomCode = parseRoomCode(roomParam);
  if (roomCode) {
    ui.code.value = roomCode;
    ui['code-field'].hidden = true;
    ui.prompt.textContent = 'Join now?';
    ui.join.textContent = 'Join now';
  } else if (roomParam !== null) {
    ui.hint.textContent = 'This link has no valid door code. Type the 5 digits shown on the door.';
  }
  ui.code.addEventListener('input', () => {
    const digits = ui.code.value.replace(/\D/g, '').slice(0, 5);
    if (digits !== ui.code.value) ui.code.value = digits;
    ui.hint.textContent = '';
  });
  ui['join-form'].addEventListener('submit', (event) => {
    event.preventDefault();
    join();
  });
}

function connectSignaling() {
  if (wire) return Promise.resolve(wire);
  if (wireOpening) return wireOpening;
  const opening = new PeerJSWire(config.signaling);
  opening.addEventListener('error', (event) => onSignalingLost(opening, event.detail));
  opening.addEventListener('close', () => onSignalingLost(opening, null));
  wireOpening = opening.open().then(
    () => {
      wire = opening;
      page.note('peerId', opening.id);
      if (page.state === 'idle' || page.state === 'error') page.set('ready', readyText());
      return opening;
    },
    (error) => {
      page.fail(`Cannot reach the intercom service: ${error.message}`);
      throw error;
    },
  ).finally(() => {
    wireOpening = null;
  });
  return wireOpening;
}

// A call in progress carries on without signalling (call.js decides); otherwise say so,
// and the next join reconnects.
function onSignalingLost(lost, error) {
  if (lost !== wire) return;
  wire = null;
  if (page.state === 'idle' || page.state === 'ready') {
    page.fail(error?.message ?? 'Lost connection to the intercom service.');
  }
}

async function join() {
  if (joining || page.inCall) return;
  const code = roomCode ?? parseRoomCode(ui.code.value);
  if (!code) {
    ui.hint.textContent = 'Please enter the 5-digit code shown on the door.';
    ui.code.focus();
    return;
  }
  joining = true;
  ui.join.disabled = true;
  try {
    await placeCall(code);
  } finally {
    joining = false;
    ui.join.disabled = false;
  }
}

async function placeCall(code) {
  if (!(await ensureConfig())) return;
  let remoteId;
  try {
    remoteId = roomPeerId(config.roomPrefix, code);
  } catch (error) {
    page.fail(error.message);
    return;
  }
  let signaling;
  try {
    signaling = await connectSignaling();
  } catch {
    return;
  }

  page.startCall();
  page.note('remoteId', remoteId);
  page.say('Starting camera and microphone…');
  const local = await openLocalMedia();
  if (page.state !== 'calling') {
    stopMedia(local.stream); // hung up while the browser was asking
    return;
  }
  page.note('localMedia', local.kind);
  localStream = local.stream;
  ui.local.srcObject = localStream;
  ui.local.hidden = !local.kind.includes('video');
  ui['media-note'].textContent = mediaNote(local);

  call = new Call({ wire: signaling, remoteId, iceServers: config.iceServers, metadata: CALL_METADATA });
  page.note('connectionId', call.connectionId);
  call.addEventListener('remotestream', (event) => showRemote(event.detail));
  call.addEventListener('connected', () => {
    if (page.state === 'calling') page.set('in-call');
  });
  call.addEventListener('connectionstate', (event) => {
    if (page.state !== 'in-call') return;
    if (event.detail === 'disconnected') page.say('Connection to the door is unstable…');
    if (event.detail === 'connected') page.set('in-call');
  });
  call.addEventListener('ended', (event) => onCallEnded(event.detail));
  page.say('Calling the door…');
  await call.start(localStream);
}

function hangUp() {
  if (!page.inCall) return;
  page.noteHangup();
  if (call) {
    call.hangUp(); // → onCallEnded
  } else {
    page.endCall('local', 'You hung up.');
  }
}

function onCallEnded({ by, reason, error }) {
  call = null;
  stopMedia(localStream);
  localStream = null;
  ui.local.srcObject = null;
  ui.remote.srcObject = null;
  ui.remote.muted = false;
  ui.unmute.hidden = true;
  ui.join.textContent = 'Call again';
  if (reason === 'unreachable') {
    page.fail(UNREACHABLE_TEXT);
  } else if (reason === 'error') {
    page.fail(error?.message || 'The call failed.');
  } else if (by === 'local') {
    page.endCall('local', 'You hung up.');
  } else {
    page.endCall('remote', 'The door ended the call.');
  }
}

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

function unmute() {
  ui.remote.muted = false;
  ui.unmute.hidden = true;
  ui.remote.play().catch(() => {});
}

function readyText() {
  return roomCode ? `Ready to call door ${roomCode}.` : 'Ready to call the door.';
}

function mediaNote({ kind, problem }) {
  switch (kind) {
    case 'audio+video':
      return '';
    case 'audio':
      return `${problem} The door can hear you but not see you.`;
    case 'video':
      return `${problem} The door can see you but not hear you.`;
    default:
      return `${problem} The door cannot see or hear you.`;
  }
}
