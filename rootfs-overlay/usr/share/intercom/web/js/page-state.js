// What the page is doing, in three places kept in step: document.body.dataset.state (drives
// the CSS and the end-to-end test), #status (words for people) and window.intercomTest.

export const STATES = Object.freeze(['idle', 'ready', 'hosting', 'incoming', 'calling', 'in-call', 'ended', 'error']);

const STATUS_TEXT = Object.freeze({
  idle: 'Connecting…',
  ready: 'Ready to call the door.',
  hosting: 'Waiting for someone to join…',
  incoming: 'Incoming call',
  calling: 'Calling the door…',
  'in-call': 'Connected to the door.',
  ended: 'Call ended.',
  error: 'Something went wrong.',
});

export class PageState {
  #body;
  #status;
  #hooks;

  /** hooks: the object published as window.intercomTest; it is updated in place. */
  constructor(body, statusElement, hooks) {
    this.#body = body;
    this.#status = statusElement;
    this.#hooks = Object.assign(hooks, {
      state: null,
      endedBy: null,
      endedAt: null,
      hangupAt: null,
      lastError: null,
      endReason: null,
      callPhase: null,
      signaling: 'connecting',
    });
  }

  get state() {
    return this.#hooks.state;
  }

  get inCall() {
    return this.state === 'calling' || this.state === 'in-call';
  }

  set(state, text = STATUS_TEXT[state]) {
    if (!STATES.includes(state)) throw new Error(`unknown page state "${state}"`);
    this.#hooks.state = state;
    this.#body.dataset.state = state;
    this.say(text);
  }

  /** Changes the words in #status without changing the state. */
  say(text) {
    this.#status.textContent = text;
  }

  startCall(state = 'calling', text = undefined) {
    Object.assign(this.#hooks, { endedBy: null, endedAt: null, hangupAt: null, lastError: null, endReason: null });
    this.set(state, text);
  }

  /** The hang-up button was pressed (the call ends a moment later). */
  noteHangup() {
    this.#hooks.hangupAt = Date.now();
  }

  endCall(by, text, reason = null, state = 'ended') {
    Object.assign(this.#hooks, { endedBy: by, endedAt: Date.now(), endReason: reason, callPhase: null });
    this.set(state, text);
  }

  fail(message, reason = 'error') {
    if (this.inCall) Object.assign(this.#hooks, { endedAt: Date.now(), endReason: reason, callPhase: null });
    this.#hooks.lastError = message;
    this.set('error', message);
  }

  /** Extra read-only facts for the test and for debugging (peerId, remoteId, connectionId, localMedia). */
  note(key, value) {
    this.#hooks[key] = value;
  }
}
