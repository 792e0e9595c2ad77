// Hosting a room in the browser: register `intercom-<code>` like the door, show the code and link, share them.

import { randomRoomCode, roomPeerId } from './room-code.js';
import { copyText, roomLink, shareMessage, shareViaApps } from './share.js';

const CREATE_ATTEMPTS = 5;

export class Hosting {
  #app;
  #room = null; // {code, link} while this page hosts a room

  constructor(app) {
    this.#app = app;
    const { ui } = app;
    ui.create.addEventListener('click', () => this.create());
    ui['copy-message'].addEventListener('click', () => this.#share('message'));
    ui['copy-link'].addEventListener('click', () => this.#share('link'));
    ui.share.addEventListener('click', () => this.#share('apps'));
    ui['close-room'].addEventListener('click', () => this.close());
  }

  /** The hosted room's code, or null. */
  get code() {
    return this.#room?.code ?? null;
  }

  text() {
    return this.#room ? `Room ${this.#room.code} is open. Waiting for someone to join…` : 'Waiting…';
  }

  async create() {
    const { page, ui, signaling } = this.#app;
    if (page.inCall || this.#room || ui.create.disabled) return;
    const config = await signaling.ensureConfig();
    if (!config) return;
    this.#app.setJoinButtonsDisabled(true);
    page.say('Creating a room…');
    try {
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
        const code = randomRoomCode();
        let opened;
        try {
          opened = await signaling.open(roomPeerId(config.roomPrefix, code));
        } catch (error) {
          if (error.type === 'unavailable-id') continue; // that code is in use: draw another
          page.fail(`Could not create a room: ${error.message}`);
          return;
        }
        signaling.use(opened);
        this.#room = { code, link: roomLink(this.#app.pageUrl, code) };
        document.body.dataset.role = 'host';
        page.note('room', code);
        page.note('role', 'host');
        ui['room-code'].textContent = code;
        ui['room-link'].textContent = this.#room.link;
        ui['room-link'].href = this.#room.link;
        ui['share-note'].textContent = '';
        page.set('hosting', this.text());
        return;
      }
      page.fail('Could not create a room: every code tried was taken. Try again.');
    } finally {
      this.#app.setJoinButtonsDisabled(false);
    }
  }

  close() {
    const { page, signaling } = this.#app;
    if (!this.#room || page.inCall) return;
    this.#room = null;
    document.body.dataset.role = '';
    page.note('role', null);
    page.note('room', null);
    signaling.drop();
    page.set('idle', 'Closing the room…');
    signaling.connect().catch(() => {});
  }

  /** The room's ID is gone with the signaling connection. */
  forget() {
    if (!this.#room) return;
    this.#room = null;
    document.body.dataset.role = '';
  }

  async #share(kind) {
    if (!this.#room) return;
    const { page, ui } = this.#app;
    const { code, link } = this.#room;
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
}
