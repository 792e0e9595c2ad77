// Screen sharing in a call: "Share screen" asks the browser for a screen, window or tab (getDisplayMedia) and
// puts it on the call's video sender in place of the camera (RTCRtpSender.replaceTrack — the same m-line and
// codec, so no new offer, which PeerJS could not carry anyway). "Stop sharing", the browser's own stop
// control, the call ending or being replaced all put the camera back (or end the sharing with the call).
//
// Only a call that already sends video can share: a watch-only or audio-only call has no video sender, and
// adding one would need renegotiation. Browsers without getDisplayMedia (most phones) never see the button.

export class ScreenShare {
  #app;
  #track = null; // the shared screen's track while sharing
  #sender = null; // the call's video sender it replaced the camera on
  #starting = false;

  constructor(app) {
    this.#app = app;
    app.ui.screen.addEventListener('click', () => (this.#track ? this.stop() : this.start()));
    app.page.note('sharingScreen', false);
  }

  static get supported() {
    return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  }

  get sharing() {
    return this.#track !== null;
  }

  /** Shows the button when the current call can share (call it when the call or what it sends changes). */
  update() {
    const button = this.#app.ui.screen;
    button.hidden = !ScreenShare.supported || !this.#app.calls.current;
    button.disabled = !this.#track && videoSender(this.#app.calls.current) === null;
  }

  async start() {
    const { calls, page, ui, media } = this.#app;
    const call = calls.current;
    const sender = videoSender(call);
    if (this.#track || this.#starting || !sender || !ScreenShare.supported) return;
    this.#starting = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      ui['media-note'].textContent = error?.name === 'NotAllowedError'
        ? 'Screen sharing was cancelled or is not allowed here.'
        : `Screen sharing is unavailable (${error?.name ?? 'unknown error'}).`;
      return;
    } finally {
      this.#starting = false;
    }
    const [track] = stream.getVideoTracks();
    if (!track || calls.current !== call || call.ended) {
      for (const each of stream.getTracks()) each.stop();
      return;
    }
    track.contentHint = 'detail'; // text and edges over motion
    try {
      await sender.replaceTrack(track);
    } catch (error) {
      track.stop();
      ui['media-note'].textContent = `Screen sharing failed: ${error.message}`;
      return;
    }
    this.#track = track;
    this.#sender = sender;
    // The browser's own "Stop sharing" (or the shared window closing) ends the track.
    track.addEventListener('ended', () => {
      if (this.#track === track) this.stop();
    });
    media.showSharing(stream);
    ui['media-note'].textContent = 'You are sharing your screen.';
    ui.screen.textContent = 'Stop sharing';
    ui.screen.setAttribute('aria-pressed', 'true');
    page.note('sharingScreen', true);
  }

  /** Back to the camera (or to nothing, when the call is over). */
  async stop() {
    const { calls, page, ui, media } = this.#app;
    const track = this.#track;
    const sender = this.#sender;
    if (!track) return;
    this.#track = null;
    this.#sender = null;
    track.stop();
    ui.screen.textContent = 'Share screen';
    ui.screen.setAttribute('aria-pressed', 'false');
    if (ui['media-note'].textContent === 'You are sharing your screen.') ui['media-note'].textContent = '';
    media.showSharing(null);
    page.note('sharingScreen', false);
    const camera = media.stream?.getVideoTracks()[0] ?? null;
    if (calls.current && !calls.current.ended && videoSender(calls.current) === sender) {
      await sender.replaceTrack(camera).catch((error) => console.warn('intercom: camera not restored', error));
    }
    this.update();
  }
}

/** The call's sender that carries video (a camera track now, or a screen), or null. */
function videoSender(call) {
  if (!call || call.ended) return null;
  return call.senders.find((sender) => sender.track?.kind === 'video') ?? null;
}
