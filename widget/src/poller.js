/**
 * The fallback transport of one channel: while the page's WebSocket cannot connect, ask
 * GET /events for what happened since our offset, every 2 to 5 s while the page is visible
 * (slower while hidden), backing off on errors.
 */
import { browserOffline } from "./network.js";
import { backoffDelay } from "./util.js";

const ACTIVE_MIN_MS = 2000;
const ACTIVE_SPREAD_MS = 3000;
const HIDDEN_MS = 20000;

export class Poller {
  /**
   * @param {() => Promise<void>} pollOnce asks the server once and applies the answer
   */
  constructor(pollOnce) {
    this.pollOnce = pollOnce;
    this.running = false;
    this.failures = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.schedule(0);
  }

  stop() {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** @param {number} delay */
  schedule(delay) {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delay);
  }

  async tick() {
    this.timer = null;
    if (!this.running) return;
    if (browserOffline()) {
      this.schedule(ACTIVE_MIN_MS); // the online event brings the socket back anyway
      return;
    }
    try {
      await this.pollOnce();
      this.failures = 0;
    } catch {
      this.failures += 1;
    }
    if (!this.running) return;
    if (this.failures) {
      this.schedule(ACTIVE_MIN_MS + backoffDelay(this.failures, ACTIVE_MIN_MS, 30000));
      return;
    }
    const hidden = typeof document !== "undefined" && document.hidden;
    this.schedule(hidden ? HIDDEN_MS : ACTIVE_MIN_MS + Math.random() * ACTIVE_SPREAD_MS);
  }
}
