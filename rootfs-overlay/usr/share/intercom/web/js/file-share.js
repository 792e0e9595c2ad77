// Sending files to the other side of a call, over the call's chat data connection (BinaryPack maps):
//
//   {t: 'features', files: true}            each page, when its chat connection opens: "I take files"
//   {t: 'file-offer', id, name, size, type} sender → receiver
//   {t: 'file-accept', id} | {t: 'file-refuse', id, reason, limit}
//   {t: 'file-chunk', id, offset, data}     data: up to FILE_CHUNK_BYTES bytes, offsets in order
//   {t: 'file-end', id} → {t: 'file-done', id} (the receiver has the whole file)
//   {t: 'file-cancel', id}                  either side, at any time
//
// The Send a file control appears only once the other side said it takes files. The door says so, in reply
// to ours, for pictures ({t: 'features', files: true, accepts, maxBytes}): it shows them on its screen and
// refuses other files with reason 'not-a-picture'. The receiver keeps the file in memory and offers it as a download
// link; nothing is written anywhere. Events: 'intercom:file' on `document` (detail: the transfer's summary)
// whenever a transfer moves, for whoever wants to follow it (the e2e test does).

const MB = 1000 * 1000;
/** The largest file sent or taken: the receiver holds it in memory (a phone's), and it shares the call's link. */
export const MAX_FILE_BYTES = 25 * MB;
// Under BinaryPack's 16 300-byte chunk size with the map around it, so every chunk is one data channel message.
const FILE_CHUNK_BYTES = 16000;
// How much may wait in the channel's send buffer: enough to keep the link busy, little enough that a chat
// message sent meanwhile is not stuck behind seconds of file.
const SEND_BUFFER_BYTES = 256 * 1024;
// The file is read this much at a time (a multiple of FILE_CHUNK_BYTES), not a chunk at a time.
const READ_BLOCK_BYTES = 64 * FILE_CHUNK_BYTES;
const MAX_NAME_CHARS = 200;
const MAX_ID_CHARS = 64;
// Rows one call may add: a peer offering file after file cannot grow the page without bound.
const MAX_TRANSFERS = 200;

const STATE_TEXT = Object.freeze({
  offered: 'Waiting for the other side…',
  sending: 'Sending…',
  receiving: 'Receiving…',
  waiting: 'Sent, waiting for the other side…',
  sent: 'Sent.',
  received: 'Received.',
  cancelled: 'Cancelled.',
  'cancelled-remote': 'Cancelled by the other side.',
  failed: 'Failed.',
  refused: 'Refused.',
});
const ACTIVE = Object.freeze(['offered', 'sending', 'receiving', 'waiting']);

export class FileShare {
  #app;
  #peerTakesFiles = false; // the call's peer said {t: 'features', files: true}
  #transfers = new Map(); // id → transfer (both directions, this call's and earlier calls')
  #urls = []; // object URLs of received files, revoked when the next call starts

  constructor(app) {
    this.#app = app;
    const { ui } = app;
    ui['file-pick'].addEventListener('click', () => ui['file-input'].click());
    ui['file-input'].addEventListener('change', () => {
      const [file] = ui['file-input'].files;
      ui['file-input'].value = '';
      if (file) this.send(file);
    });
    this.#publish();
  }

  /** A call started: earlier transfers and their downloads go. */
  reset() {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls = [];
    this.#transfers.clear();
    this.#app.ui['file-list'].replaceChildren();
    this.#app.ui['file-note'].textContent = '';
    this.#peerTakesFiles = false;
    this.#update();
  }

  /** The call's chat connection opened: say that this page takes files. */
  opened(conn) {
    conn.send({ t: 'features', files: true });
  }

  /** The call ended: what is still moving fails, the control goes (finished downloads stay). */
  ended() {
    for (const transfer of this.#transfers.values()) {
      if (ACTIVE.includes(transfer.state)) this.#finish(transfer, 'failed', 'Failed: the call ended.');
    }
    this.#peerTakesFiles = false;
    this.#update();
  }

  /** A value from the call's peer; true when it was a file message (taken here, not a chat). */
  receive(conn, value) {
    if (conn.serialization !== 'binary') return false; // file chunks are bytes: BinaryPack connections only
    if (value?.t === 'features') {
      this.#peerTakesFiles = value.files === true;
      this.#update();
      return true;
    }
    if (typeof value?.t !== 'string' || !value.t.startsWith('file-')) return false;
    const id = typeof value.id === 'string' && value.id.length <= MAX_ID_CHARS ? value.id : null;
    if (id === null) return true;
    const transfer = this.#transfers.get(id);
    switch (value.t) {
      case 'file-offer':
        if (!transfer) this.#offered(conn, id, value);
        break;
      case 'file-chunk':
        if (transfer?.direction === 'in' && transfer.conn === conn) this.#chunk(transfer, value);
        break;
      case 'file-end':
        if (transfer?.direction === 'in' && transfer.conn === conn) this.#complete(transfer);
        break;
      case 'file-accept':
        if (transfer?.direction === 'out' && transfer.state === 'offered') this.#pump(transfer);
        break;
      case 'file-refuse':
        if (transfer?.direction === 'out' && ACTIVE.includes(transfer.state)) {
          const limit = Number.isSafeInteger(value.limit) ? value.limit : null;
          this.#finish(transfer, 'refused', value.reason === 'too-large' && limit !== null
            ? `Refused: the other side takes files of up to ${formatSize(limit)}.`
            : value.reason === 'busy' ? 'Refused: the other side is receiving another file.'
              : value.reason === 'not-a-picture' ? 'Refused: the door shows pictures only (JPEG or PNG).' : 'Refused.');
        }
        break;
      case 'file-done':
        if (transfer?.direction === 'out' && transfer.state === 'waiting') this.#finish(transfer, 'sent');
        break;
      case 'file-cancel':
        if (transfer && ACTIVE.includes(transfer.state)) this.#finish(transfer, 'cancelled-remote');
        break;
      default:
        break;
    }
    return true;
  }

  /** Offers `file` (a File) to the call's peer. */
  send(file) {
    const { calls, chat, ui } = this.#app;
    const call = calls.current;
    if (!call || !this.#peerTakesFiles) return null;
    if (this.#transfers.size >= MAX_TRANSFERS) {
      ui['file-note'].textContent = 'Too many files in this call: call again to send more.';
      return null;
    }
    const name = cleanName(file.name);
    const transfer = this.#add({ id: newId(), direction: 'out', name, size: file.size, type: file.type, file });
    if (file.size > MAX_FILE_BYTES) {
      const text = `Refused: ${name} is ${formatSize(file.size)}; files of up to ${formatSize(MAX_FILE_BYTES)} can be sent.`;
      this.#finish(transfer, 'refused', text);
      ui['file-note'].textContent = text;
      return transfer.id;
    }
    const conn = chat.connectionTo(call.remoteId, 'binary');
    if (!conn || !conn.send({ t: 'file-offer', id: transfer.id, name, size: file.size, type: file.type })) {
      this.#finish(transfer, 'failed', 'Failed: not connected.');
      return transfer.id;
    }
    transfer.conn = conn;
    ui['file-note'].textContent = '';
    this.#watchConnection(transfer);
    return transfer.id;
  }

  cancel(id) {
    const transfer = this.#transfers.get(id);
    if (!transfer || !ACTIVE.includes(transfer.state)) return;
    transfer.conn?.send({ t: 'file-cancel', id });
    this.#finish(transfer, 'cancelled');
  }

  #offered(conn, id, { name, size, type }) {
    if (!Number.isSafeInteger(size) || size < 0) return;
    if (this.#transfers.size >= MAX_TRANSFERS) {
      conn.send({ t: 'file-refuse', id, reason: 'busy' });
      return;
    }
    const transfer = this.#add({ id, direction: 'in', name: cleanName(name), size,
      type: typeof type === 'string' ? type.slice(0, 100) : '', conn });
    if (size > MAX_FILE_BYTES) {
      conn.send({ t: 'file-refuse', id, reason: 'too-large', limit: MAX_FILE_BYTES });
      this.#finish(transfer, 'refused', `Refused: ${transfer.name} is ${formatSize(size)}; files of up to `
        + `${formatSize(MAX_FILE_BYTES)} are taken.`);
      return;
    }
    const receiving = [...this.#transfers.values()].some((each) => each !== transfer && each.direction === 'in'
      && ACTIVE.includes(each.state));
    if (receiving) {
      conn.send({ t: 'file-refuse', id, reason: 'busy' });
      this.#finish(transfer, 'refused', 'Refused: another file is still arriving.');
      return;
    }
    transfer.parts = [];
    this.#watchConnection(transfer);
    this.#set(transfer, 'receiving');
    conn.send({ t: 'file-accept', id });
    this.#app.chat.noteUnseen();
  }

  #chunk(transfer, { offset, data }) {
    if (transfer.state !== 'receiving') return;
    const bytes = data instanceof ArrayBuffer ? data : null;
    if (!bytes || offset !== transfer.bytes || transfer.bytes + bytes.byteLength > transfer.size) {
      transfer.conn.send({ t: 'file-cancel', id: transfer.id });
      this.#finish(transfer, 'failed', 'Failed: the file arrived damaged.');
      return;
    }
    transfer.parts.push(bytes);
    transfer.bytes += bytes.byteLength;
    this.#progress(transfer);
  }

  #complete(transfer) {
    if (transfer.state !== 'receiving') return;
    if (transfer.bytes !== transfer.size) {
      transfer.conn.send({ t: 'file-cancel', id: transfer.id });
      this.#finish(transfer, 'failed', 'Failed: the file arrived incomplete.');
      return;
    }
    const blob = new Blob(transfer.parts, { type: transfer.type || 'application/octet-stream' });
    transfer.parts = null;
    transfer.href = URL.createObjectURL(blob);
    this.#urls.push(transfer.href);
    transfer.conn.send({ t: 'file-done', id: transfer.id });
    this.#finish(transfer, 'received');
  }

  async #pump(transfer) {
    const { conn, file, id } = transfer;
    this.#set(transfer, 'sending');
    let block = new Uint8Array(0);
    let blockStart = 0;
    for (let offset = 0; offset < file.size; offset += FILE_CHUNK_BYTES) {
      await conn.drained(SEND_BUFFER_BYTES);
      if (transfer.state !== 'sending') return;
      if (offset >= blockStart + block.byteLength) {
        blockStart = offset;
        block = new Uint8Array(await file.slice(offset, offset + READ_BLOCK_BYTES).arrayBuffer());
        if (transfer.state !== 'sending') return;
      }
      const data = block.subarray(offset - blockStart, offset - blockStart + FILE_CHUNK_BYTES);
      if (!conn.send({ t: 'file-chunk', id, offset, data })) {
        this.#finish(transfer, 'failed', 'Failed: the connection stopped taking data.');
        return;
      }
      transfer.bytes = offset + data.byteLength;
      this.#progress(transfer);
    }
    if (!conn.send({ t: 'file-end', id })) {
      this.#finish(transfer, 'failed', 'Failed: the connection stopped taking data.');
      return;
    }
    this.#set(transfer, 'waiting');
  }

  #watchConnection(transfer) {
    transfer.conn.addEventListener('ended', () => {
      if (ACTIVE.includes(transfer.state)) this.#finish(transfer, 'failed', 'Failed: the connection closed.');
    });
  }

  #add(fields) {
    const transfer = { bytes: 0, state: 'offered', text: STATE_TEXT.offered, progressEvents: 0, href: null,
      conn: null, parts: null, file: null, ...fields };
    transfer.item = this.#render(transfer);
    this.#transfers.set(transfer.id, transfer);
    this.#show(transfer);
    return transfer;
  }

  #set(transfer, state, text = STATE_TEXT[state]) {
    transfer.state = state;
    transfer.text = text;
    this.#show(transfer);
  }

  #finish(transfer, state, text = STATE_TEXT[state]) {
    transfer.parts = null;
    transfer.file = null;
    this.#set(transfer, state, text);
  }

  #progress(transfer) {
    transfer.progressEvents += 1;
    this.#show(transfer);
  }

  #render(transfer) {
    const item = document.createElement('li');
    item.className = `file-transfer ${transfer.direction}`;
    item.dataset.id = transfer.id;
    const title = document.createElement('span');
    title.className = 'file-title';
    title.textContent = `${transfer.direction === 'out' ? 'You send' : 'They send'} ${transfer.name} (${formatSize(transfer.size)})`;
    const progress = document.createElement('progress');
    progress.max = Math.max(1, transfer.size);
    progress.value = 0;
    const state = document.createElement('span');
    state.className = 'file-state';
    const cancel = document.createElement('button');
    cancel.className = 'button quiet file-cancel';
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => this.cancel(transfer.id));
    item.append(title, progress, state, cancel);
    this.#app.ui['file-list'].append(item);
    return item;
  }

  #show(transfer) {
    const { item } = transfer;
    item.dataset.state = transfer.state;
    item.querySelector('progress').value = transfer.bytes;
    const percent = transfer.size > 0 ? Math.floor((transfer.bytes / transfer.size) * 100) : 100;
    item.querySelector('.file-state').textContent = ['sending', 'receiving'].includes(transfer.state)
      ? `${transfer.text} ${percent}%` : transfer.text;
    item.querySelector('.file-cancel').hidden = !ACTIVE.includes(transfer.state);
    if (transfer.href && !item.querySelector('a')) {
      const link = document.createElement('a');
      link.className = 'file-download';
      link.href = transfer.href;
      link.download = transfer.name;
      link.textContent = `Download ${transfer.name} (${formatSize(transfer.size)})`;
      item.append(link);
    }
    this.#publish();
    document.dispatchEvent(new CustomEvent('intercom:file', { detail: summary(transfer) }));
  }

  #update() {
    const { ui, calls } = this.#app;
    ui['file-row'].hidden = !(this.#peerTakesFiles && calls.current);
    this.#app.page.note('peerTakesFiles', this.#peerTakesFiles);
  }

  #publish() {
    this.#app.page.note('files', [...this.#transfers.values()].map(summary));
  }
}

function summary({ id, direction, name, size, bytes, state, text, progressEvents, href }) {
  return { id, direction, name, size, bytes, state, text, progressEvents, href };
}

/** A file name safe to show and to offer as a download name: no folders, no control characters. */
function cleanName(name) {
  const text = typeof name === 'string' ? name : '';
  const base = text.split(/[/\\]/).pop().replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_CHARS);
  return base === '' || base === '.' || base === '..' ? 'file' : base;
}

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `f_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export function formatSize(bytes) {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < MB) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}
