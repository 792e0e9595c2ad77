// What this page sends in a call: camera and microphone (or nothing, watching only), the self-view, the note
// that says what the other side gets, and the Mute and Camera off buttons.

import { openLocalMedia, stopMedia } from './local-media.js';

export class MediaControls {
  #ui;
  #page;
  #stream = null;
  #sharing = null; // the shared screen's stream while sharing

  constructor({ ui, page }) {
    this.#ui = ui;
    this.#page = page;
    ui.mute.addEventListener('click', () => this.#toggle(this.#stream?.getAudioTracks() ?? []));
    ui.camera.addEventListener('click', () => this.#toggle(this.#stream?.getVideoTracks() ?? []));
  }

  /** The stream the current call sends, or null. */
  get stream() {
    return this.#stream;
  }

  /** mode: 'video' (camera + microphone, with fallbacks), 'audio', or 'watch' (never asks). */
  async open(mode) {
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

  /** Sends `local` ({stream, kind, problem} from open()) from now on. */
  use(local, mode) {
    const ui = this.#ui;
    this.#stream = local.stream;
    this.#page.note('localMedia', local.kind);
    this.#page.note('mediaMode', mode);
    ui.local.srcObject = this.#stream;
    ui.local.hidden = !local.kind.includes('video');
    ui['media-note'].textContent = mediaNote(local, mode);
    ui.talk.hidden = local.kind !== 'none';
    this.#updateButtons();
  }

  /** While a screen is shared (a stream) or not (null): the self-view shows it, and Camera off waits. */
  showSharing(stream) {
    this.#sharing = stream;
    this.#ui.local.srcObject = stream ?? this.#stream;
    this.#updateButtons();
  }

  /** Stops camera and microphone (the call ended, or other ones replace them). */
  stop() {
    stopMedia(this.#stream);
    this.#stream = null;
    this.#sharing = null;
    this.#ui.local.srcObject = null;
    this.#ui.talk.hidden = true;
  }

  #updateButtons() {
    const ui = this.#ui;
    const audio = this.#stream?.getAudioTracks() ?? [];
    const video = this.#stream?.getVideoTracks() ?? [];
    const muted = audio.length > 0 && audio.every((track) => !track.enabled);
    const cameraOff = video.length > 0 && video.every((track) => !track.enabled);
    ui.mute.disabled = audio.length === 0;
    ui.mute.setAttribute('aria-pressed', String(muted));
    ui.mute.textContent = muted ? 'Unmute' : 'Mute';
    ui.camera.disabled = video.length === 0 || this.#sharing !== null;
    ui.camera.setAttribute('aria-pressed', String(cameraOff));
    ui.camera.textContent = cameraOff ? 'Camera on' : 'Camera off';
    ui.local.classList.toggle('off', cameraOff);
    this.#page.note('muted', muted);
    this.#page.note('cameraOff', cameraOff);
  }

  #toggle(tracks) {
    if (tracks.length === 0) return;
    const enable = tracks.every((track) => !track.enabled);
    for (const track of tracks) track.enabled = enable;
    this.#updateButtons();
  }
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
