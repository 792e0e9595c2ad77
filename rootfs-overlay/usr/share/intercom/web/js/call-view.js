// The call on screen: the other side's video (muted autoplay with a "Tap for sound" button where the browser
// insists), the duration, and a placeholder when the other side's picture stops.

const PICTURE_CHECK_MS = 250;
const PICTURE_STALL_MS = 1500;

export class CallView {
  #ui;
  #page;
  #timer = 0;
  #connectedAt = 0;
  #pictureWatch = 0;
  #lastFrameCount = -1;
  #lastFrameAt = 0;

  constructor({ ui, page }) {
    this.#ui = ui;
    this.#page = page;
    ui.unmute.addEventListener('click', () => this.#unmuteRemote());
  }

  showRemote(stream) {
    const remote = this.#ui.remote;
    if (remote.srcObject !== stream) remote.srcObject = stream;
    remote.play().catch((error) => {
      if (error.name !== 'NotAllowedError') return; // AbortError when the source changes: harmless
      // Autoplay with sound refused: play muted and offer a button for the sound.
      remote.muted = true;
      this.#ui.unmute.hidden = false;
      remote.play().catch(() => {});
    });
  }

  /** The call connected: the duration and the picture watch start (once per call). */
  start() {
    if (this.#connectedAt) return;
    this.#connectedAt = Date.now();
    this.#timer = setInterval(() => this.#showDuration(), 1000);
    this.#showDuration();
    this.#pictureWatch = setInterval(() => this.#watchPicture(), PICTURE_CHECK_MS);
  }

  stop() {
    const ui = this.#ui;
    clearInterval(this.#pictureWatch);
    this.#pictureWatch = 0;
    this.#lastFrameCount = -1;
    ui['remote-off'].hidden = true;
    this.#page.note('remoteVideoOff', false);
    clearInterval(this.#timer);
    this.#timer = 0;
    this.#connectedAt = 0;
    ui.timer.textContent = '0:00';
  }

  /** The call ended: no remote picture or sound left behind. */
  clear() {
    const ui = this.#ui;
    ui.remote.srcObject = null;
    ui.remote.muted = false;
    ui.unmute.hidden = true;
  }

  #unmuteRemote() {
    const ui = this.#ui;
    ui.remote.muted = false;
    ui.unmute.hidden = true;
    ui.remote.play().catch(() => {});
  }

  #showDuration() {
    const seconds = Math.max(0, Math.floor((Date.now() - this.#connectedAt) / 1000));
    this.#page.note('durationSeconds', seconds);
    this.#ui.timer.textContent = formatDuration(seconds);
  }

  // When no new frame arrives for a while (the door turned its camera off — a valve, no renegotiation — or
  // the video stalled), a placeholder covers the frozen last frame.
  #watchPicture() {
    const ui = this.#ui;
    const stream = ui.remote.srcObject;
    const hasVideo = !!stream && stream.getVideoTracks().some((track) => track.readyState === 'live');
    const frames = ui.remote.getVideoPlaybackQuality ? ui.remote.getVideoPlaybackQuality().totalVideoFrames : 0;
    const now = Date.now();
    if (frames !== this.#lastFrameCount) {
      this.#lastFrameCount = frames;
      this.#lastFrameAt = now;
    }
    const off = hasVideo && frames > 0 && now - this.#lastFrameAt >= PICTURE_STALL_MS;
    if (off !== !ui['remote-off'].hidden) {
      ui['remote-off'].hidden = !off;
      this.#page.note('remoteVideoOff', off);
    }
  }
}

export function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
