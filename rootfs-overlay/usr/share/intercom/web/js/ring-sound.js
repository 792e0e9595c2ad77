// A doorbell-like two-tone ring from Web Audio (no sound file), repeated until stopped. Browsers let a page
// play sound only after the person has interacted with it (or by their autoplay setting); when the audio
// context stays suspended the ring is silent and start() says so.

const TONES = [[660, 0], [523, 0.45]]; // Hz, start in s: "ding-dong"
const TONE_SECONDS = 0.6;
const PERIOD_MS = 2500;

export class RingSound {
  #context = null;
  #timer = 0;

  /** Starts ringing; resolves 'playing', or 'blocked' when the browser does not allow sound yet. */
  async start() {
    this.stop();
    const Context = globalThis.AudioContext ?? globalThis.webkitAudioContext;
    if (!Context) return 'blocked';
    const context = new Context();
    this.#context = context;
    if (context.state !== 'running') {
      await Promise.race([context.resume().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 300))]);
    }
    if (this.#context !== context) return 'stopped';
    if (context.state !== 'running') {
      this.stop();
      return 'blocked';
    }
    const ring = () => {
      for (const [frequency, offset] of TONES) this.#tone(context, frequency, context.currentTime + offset);
    };
    ring();
    this.#timer = setInterval(ring, PERIOD_MS);
    return 'playing';
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = 0;
    this.#context?.close().catch(() => {});
    this.#context = null;
  }

  #tone(context, frequency, at) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + TONE_SECONDS);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + TONE_SECONDS);
  }
}
