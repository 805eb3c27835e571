/**
 * The page's live connection: ONE WebSocket per server URL, shared by every widget on the page,
 * with reconnects (exponential backoff, full jitter) and the switch to polling when the socket
 * keeps failing (a proxy that blocks WebSockets).
 */
import { browserOffline, network } from "./network.js";
import { Emitter, backoffDelay } from "./util.js";

/** Closes that mean "do not come back": the frame could never be accepted. */
const FATAL_CLOSE_CODES = new Set([4400]);
/** Sockets in a row that closed before saying anything, after which the widget polls. */
export const FALLBACK_AFTER_FAILURES = 3;

/** @param {string} server @param {string} tenantId @param {string} urlId */
export function channelKey(server, tenantId, urlId) {
  return `${server}\u0000${tenantId}\u0000${urlId}`;
}

/**
 * What the connection needs of a channel.
 * @typedef {{
 *   key: string, tenantId: string, urlId: string, epoch: string | null, offset: number | null,
 *   token: string | null, sentToken: boolean,
 *   onSocketOpen(): void, onSocketClosed(): void, onTransportChanged(): void,
 *   reachable(): Promise<boolean>,
 *   receive(message: any): void, onError(message: any): void
 * }} Subscriber
 */

/**
 * States: "idle" (no channels), "connecting", "open", "waiting" (backoff timer running),
 * "offline" (browser offline: wait for the online event, no timer), "closed" (refused with a
 * fatal close code: never reconnects).
 */
export class LiveConnection {
  /** @type {Map<string, LiveConnection>} */
  static instances = new Map();

  /** @param {string} server */
  static for(server) {
    let connection = LiveConnection.instances.get(server);
    if (!connection) {
      connection = new LiveConnection(server);
      LiveConnection.instances.set(server, connection);
    }
    return connection;
  }

  /** @param {string} server */
  constructor(server) {
    this.server = server;
    this.url = `${server.replace(/^http/i, "ws")}/ws`;
    /** @type {Map<string, Subscriber>} */
    this.channels = new Map();
    /** @type {WebSocket | null} */
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    /** Sockets in a row that closed without a single message: a proxy may be blocking them. */
    this.silentFailures = 0;
    /** True while the socket keeps failing and the channels poll GET /events instead. */
    this.polling = false;
    /** A check of whether the server answers over HTTP is on its way. */
    this.checking = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.fatalReason = "";
    this.events = new Emitter();
    this.unlisten = network.listen((type) => {
      if (type === "online") this.onBrowserOnline();
      else if (type === "offline") this.onBrowserOffline();
    });
  }

  /** @param {Subscriber} channel */
  add(channel) {
    this.channels.set(channel.key, channel);
    if (this.state === "open") channel.onSocketOpen();
    else this.ensureConnecting();
  }

  /** @param {Subscriber} channel */
  remove(channel) {
    if (this.channels.get(channel.key) !== channel) return;
    this.channels.delete(channel.key);
    this.send({ type: "unsubscribe", tenantId: channel.tenantId, urlId: channel.urlId });
    if (this.channels.size === 0) this.dispose();
  }

  /** @param {Subscriber} channel */
  subscribe(channel) {
    /** @type {Record<string, unknown>} */
    const message = { type: "subscribe", tenantId: channel.tenantId, urlId: channel.urlId };
    if (channel.epoch !== null && channel.offset !== null) {
      message.epoch = channel.epoch;
      message.offset = channel.offset;
    }
    const token = channel.token;
    if (token) message.token = token;
    channel.sentToken = Boolean(token);
    return this.send(message);
  }

  /** @param {unknown} message @returns {boolean} whether it went out */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  ensureConnecting() {
    if (this.state === "closed" || this.ws || this.timer) return;
    if (browserOffline()) {
      this.setState("offline");
      return;
    }
    this.connect();
  }

  connect() {
    this.timer = null;
    if (this.channels.size === 0) return;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error("imagechat: cannot open WebSocket", err);
      this.silentFailures += 1;
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let heard = false;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.setState("open");
      for (const channel of this.channels.values()) channel.onSocketOpen();
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      heard = true;
      // A message proves the connection really works; only then forget past failures, so a
      // server that accepts and immediately drops us still gets an increasing backoff.
      this.attempt = 0;
      this.silentFailures = 0;
      this.setPolling(false);
      this.onFrame(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!heard) this.silentFailures += 1;
      this.onClosed(event.code, event.reason);
    });
    // "error" is always followed by "close", which does the work.
  }

  /** @param {number} code @param {string} reason */
  onClosed(code, reason) {
    for (const channel of this.channels.values()) channel.onSocketClosed();
    if (FATAL_CLOSE_CODES.has(code)) {
      this.fatalReason = reason || `close code ${code}`;
      this.setState("closed");
      return;
    }
    if (this.channels.size === 0) {
      this.setState("idle");
      return;
    }
    if (browserOffline()) {
      this.setState("offline");
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.timer) return;
    if (this.silentFailures >= FALLBACK_AFTER_FAILURES && !this.polling) this.checkFallback();
    // While polling, the socket is still tried now and then (at most every 8 s or so), so the
    // page goes back to it as soon as the way is open.
    const delay = backoffDelay(this.polling ? Math.min(this.attempt, 4) : this.attempt);
    this.attempt += 1;
    this.setState("waiting");
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /**
   * The socket keeps failing. If the server still answers over plain HTTP, something on the way
   * (a proxy) blocks WebSockets: poll instead. If it does not, the server is down or restarting,
   * and the socket's own backoff is the right way back.
   */
  async checkFallback() {
    if (this.checking) return;
    const channel = this.channels.values().next().value;
    if (!channel) return;
    this.checking = true;
    try {
      const reachable = await channel.reachable();
      if (reachable && !this.ws && this.silentFailures >= FALLBACK_AFTER_FAILURES) {
        this.setPolling(true);
      }
    } finally {
      this.checking = false;
    }
  }

  onBrowserOnline() {
    if (this.state === "closed" || this.channels.size === 0) return;
    // Back online: do not sit out a long backoff; reconnect now and catch up.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.attempt = 0;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      // The socket survived (some browsers keep it): make sure nothing was missed anyway.
      for (const channel of this.channels.values()) channel.onSocketOpen();
    } else if (!this.ws) {
      this.connect();
    }
  }

  onBrowserOffline() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // A socket that looks open while the browser is offline may silently drop events; close
    // it so the recovery on "online" starts from a known state.
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      try {
        ws.close(1000, "offline");
      } catch {
        /* already closing */
      }
      for (const channel of this.channels.values()) channel.onSocketClosed();
    }
    if (this.state !== "closed" && this.channels.size > 0) this.setState("offline");
  }

  /** @param {unknown} data */
  onFrame(data) {
    let parsed;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return; // not ours to repair; the server never sends this
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    for (const message of messages) {
      if (!message || typeof message !== "object") continue;
      this.route(message);
    }
  }

  /** @param {any} message */
  route(message) {
    if (message.type === "error" && !(message.tenantId && message.urlId)) {
      for (const channel of this.channels.values()) channel.onError(message);
      return;
    }
    if (typeof message.tenantId !== "string" || typeof message.urlId !== "string") return;
    const channel = this.channels.get(channelKey(this.server, message.tenantId, message.urlId));
    if (!channel) return;
    if (message.type === "error") channel.onError(message);
    else channel.receive(message);
  }

  /** @param {boolean} polling */
  setPolling(polling) {
    if (this.polling === polling) return;
    this.polling = polling;
    for (const channel of this.channels.values()) channel.onTransportChanged();
    this.events.emit("state", this.state);
  }

  /** @param {string} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.events.emit("state", state);
  }

  dispose() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "no more widgets");
    this.unlisten();
    this.setState("idle");
    LiveConnection.instances.delete(this.server);
  }
}

