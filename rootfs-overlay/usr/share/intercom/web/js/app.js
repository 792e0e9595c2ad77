// Page wiring: finds the page's elements, reads the link it was opened with, and makes the parts that own the
// page's state — signalling, incoming offers, the current call, what it sends and shows, chat, a hosted room,
// the pairing with a door — each handed this `app` to reach the others.

import { CallView } from './call-view.js';
import { Calls } from './calls.js';
import { Chat, renderChat } from './chat.js';
import { ChatStore } from './chat-store.js';
import { DoorMessages } from './door-messages.js';
import { FileShare } from './file-share.js';
import { Hosting } from './hosting.js';
import { MediaControls } from './media-controls.js';
import { Offers } from './offers.js';
import { PageState } from './page-state.js';
import { PairedBrowser } from './paired-browser.js';
import { PushedRing } from './pushed-ring.js';
import { parseRoomCode } from './room-code.js';
import { RoomProof } from './room-proof.js';
import { ScreenShare } from './screen-share.js';
import { readRoomTURN } from './room-turn.js';
import { Signaling } from './signaling.js';

export { formatDuration } from './call-view.js';

const ui = Object.fromEntries(
  [
    'status', 'signal-banner', 'join-form', 'prompt', 'code-field', 'code', 'join', 'join-audio', 'watch', 'hint',
    'create-panel', 'create', 'history-panel', 'history-log', 'room-code', 'room-link', 'copy-message', 'share',
    'copy-link', 'share-note', 'close-room', 'remote', 'remote-off', 'local', 'timer', 'unmute', 'media-note', 'mute', 'camera',
    'talk', 'screen', 'chat-toggle', 'chat-unread', 'hangup', 'chat', 'chat-log', 'chat-form', 'chat-input', 'chat-send', 'chat-note',
    'file-list', 'file-row', 'file-input', 'file-pick', 'file-note',
    'incoming', 'incoming-from', 'answer', 'answer-audio', 'decline',
    'pair-title', 'pair-form', 'pair-name', 'pair', 'pair-result', 'paired-panel', 'paired-text', 'push-note', 'unpair',
    'ringing', 'ringing-title', 'ringing-info', 'ringing-picture', 'ring-answer', 'ring-ignore',
    'door-messages', 'door-messages-log', 'door-message-form', 'door-message-input', 'door-message-note',
  ].map((id) => [id, document.getElementById(id)]),
);

const pageUrl = new URL(window.location.href);
const hooks = (window.intercomTest = {});
const linkRoom = parseRoomCode(pageUrl.searchParams.get('room')); // from ?room=, when valid

const app = {
  ui,
  hooks,
  pageUrl,
  page: new PageState(document.body, ui.status, hooks),
  /** What the page was opened with: ?room=, its TURN credential and its room secret. */
  link: Object.freeze({
    room: linkRoom,
    // The link's TURN credential (#…&t=), read before RoomProof.forRoom clears the fragment; or null.
    turn: linkRoom ? readRoomTURN(linkRoom) : null,
    // The room secret from the link's #k= fragment (a RoomProof, or null: then the code alone, i.e. a knock).
    proof: linkRoom ? RoomProof.forRoom(linkRoom).catch(() => null) : Promise.resolve(null),
  }),
  readyText() {
    if (document.body.dataset.role === 'pair') return 'Ready to pair.';
    return linkRoom ? `Room ${linkRoom}` : 'Call a room, or create one.';
  },
  idleState() {
    return app.hosting.code ? 'hosting' : 'ready';
  },
  setJoinButtonsDisabled(disabled) {
    for (const id of ['join', 'join-audio', 'watch', 'create']) ui[id].disabled = disabled;
  },
};
app.doorMessages = new DoorMessages(
  { panel: ui['door-messages'], log: ui['door-messages-log'], form: ui['door-message-form'],
    input: ui['door-message-input'], note: ui['door-message-note'] },
  hooks,
  (remoteId) => Boolean(app.signaling.config) && remoteId.startsWith(`${app.signaling.config.roomPrefix}home-`),
);
app.signaling = new Signaling(app);
app.paired = new PairedBrowser(app);
app.offers = new Offers(app);
app.calls = new Calls(app);
app.media = new MediaControls(app);
app.view = new CallView(app);
app.screen = new ScreenShare(app);
app.chat = new Chat(app);
app.files = new FileShare(app);
app.hosting = new Hosting(app);
app.pushedRing = new PushedRing(app);

app.page.set('idle');
app.signaling.setState('connecting');
setUpJoinForm();
setUpCallView();
app.paired.setUp();
app.pushedRing.setUp();
window.addEventListener('pagehide', () => {
  app.calls.current?.hangUp();
  app.offers.incoming?.decline('declined');
  app.paired.close();
  app.signaling.wire?.close();
});
start();

async function start() {
  if (!(await app.signaling.ensureConfig())) return;
  app.signaling.connect().catch(() => {}); // connect() shows its own failure
  app.pushedRing.fetch();
}

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
    app.calls.join('video');
  });
  ui['join-audio'].addEventListener('click', () => app.calls.join('audio'));
  ui.watch.addEventListener('click', () => app.calls.join('watch'));
}

function setUpCallView() {
  const { page, calls } = app;
  ui.hangup.addEventListener('click', () => calls.hangUp());
  ui.talk.addEventListener('click', () => calls.startTalking());
  ui.remote.addEventListener('playing', () => {
    if (page.state === 'calling' && calls.current?.answered !== false) page.set('in-call', calls.inCallText());
  });
  document.addEventListener('keydown', (event) => {
    if (!page.inCall || event.target instanceof HTMLInputElement) return;
    if (event.key === 'm') ui.mute.click();
  });
}
