/**
 * imagechat browser widget.
 *
 * One file that works both as a classic `<script>` (it defines `window.ImageChat`) and when
 * imported for its side effect from an ES module (see `imagechat.mjs`). It has no dependencies
 * and needs no build step.
 *
 * Structure, top to bottom:
 *   - i18n: every user-visible string, per locale, in one table;
 *   - small helpers (DOM building without innerHTML, storage, ids);
 *   - Api: REST calls and the session token of one (server, tenant);
 *   - LiveConnection: the single WebSocket per server URL shared by every widget on the page;
 *   - Channel: the store of chats of one image (tenantId, urlId) and its offset bookkeeping;
 *   - layout helpers: where the image content really is on screen, where a floating window goes;
 *   - Widget: the DOM overlay of one image (markers, composer, thread window, banners);
 *   - the public `ImageChat(target, config)` function.
 *
 * The wire contract lives in PROTOCOL.md; embedding docs in docs/embedding.md.
 */
(function () {
  "use strict";

  // Loaded twice (a classic tag plus the module wrapper, or two tags)? Keep the first copy, so
  // that the page still has exactly one connection manager and one set of own broadcastIds.
  if (globalThis.ImageChat && globalThis.ImageChat.__imagechat) return;

  /** URL of this script when loaded by a classic tag; used to find the stylesheet next to it. */
  const SCRIPT_URL =
    typeof document !== "undefined" && document.currentScript && "src" in document.currentScript
      ? /** @type {HTMLScriptElement} */ (document.currentScript).src
      : "";

  // ---------------------------------------------------------------------------------------------
  // i18n
  // ---------------------------------------------------------------------------------------------

  /**
   * Every string the widget shows. Keys ending in `_one` / `_other` are plural forms picked with
   * Intl.PluralRules; `{name}` placeholders are filled in one pass, so user text that happens to
   * contain braces is never expanded.
   * @type {Record<string, Record<string, string>>}
   */
  const STRINGS = {
    en: {
      surfaceLabel: "Image with comments. Click a spot to start a conversation there.",
      surfaceKeyboardHint: "Press Enter to start a conversation in the middle of the image.",
      markerLabel_one: "Conversation by {name}, {count} comment",
      markerLabel_other: "Conversation by {name}, {count} comments",
      markerResolved: "resolved",
      markerPending: "Sending…",
      composerLabel: "New conversation",
      composerPlaceholder: "Write a comment…",
      post: "Post",
      cancel: "Cancel",
      nameLabel: "Your name",
      namePlaceholder: "Your name",
      threadLabel: "Conversation started by {name}",
      close: "Close",
      replyPlaceholder: "Write a reply…",
      replyLabel: "Reply",
      send: "Send",
      edit: "Edit",
      save: "Save",
      delete: "Delete",
      confirmDelete: "Delete? Click again",
      resolve: "Resolve",
      reopen: "Reopen",
      deleteChat: "Delete conversation",
      confirmDeleteChat: "Really delete?",
      edited: "(edited)",
      resolvedBadge: "Resolved",
      loading: "Loading comments…",
      loadFailed: "Could not load the comments: {message}",
      offlineNoCache: "You are offline, and this conversation has not been loaded yet.",
      offline:
        "You are offline. Existing comments stay visible, but nothing new can be sent until you reconnect.",
      reconnecting: "Connection lost. Reconnecting…",
      liveUnavailable: "Live updates are unavailable: {message}",
      offlineSend: "You are offline. Nothing was sent; please try again when you are back online.",
      networkError: "Could not reach the server. Please try again.",
      timeoutError: "The server took too long to answer. Please try again.",
      genericError: "Something went wrong ({status}).",
      emptyComment: "Please write a comment.",
      tooLong: "A comment can be at most {max} characters.",
      nameRequired: "Please enter your name.",
      viewers_one: "{count} viewing",
      viewers_other: "{count} viewing",
      announceNewChat: "New conversation from {name}: {body}",
      announceNewComment: "New comment from {name}: {body}",
      announceDeleted: "A conversation was deleted.",
      chatDeleted: "This conversation was deleted.",
      createFailed: "Your conversation could not be created: {message}",
      dismiss: "Dismiss",
      unknownUser: "Someone",
      you: "you",
    },
    it: {
      surfaceLabel: "Immagine con commenti. Fai clic su un punto per iniziare una conversazione.",
      surfaceKeyboardHint: "Premi Invio per iniziare una conversazione al centro dell'immagine.",
      markerLabel_one: "Conversazione di {name}, {count} commento",
      markerLabel_other: "Conversazione di {name}, {count} commenti",
      markerResolved: "risolta",
      markerPending: "Invio in corso…",
      composerLabel: "Nuova conversazione",
      composerPlaceholder: "Scrivi un commento…",
      post: "Pubblica",
      cancel: "Annulla",
      nameLabel: "Il tuo nome",
      namePlaceholder: "Il tuo nome",
      threadLabel: "Conversazione iniziata da {name}",
      close: "Chiudi",
      replyPlaceholder: "Scrivi una risposta…",
      replyLabel: "Rispondi",
      send: "Invia",
      edit: "Modifica",
      save: "Salva",
      delete: "Elimina",
      confirmDelete: "Eliminare? Clicca di nuovo",
      resolve: "Risolvi",
      reopen: "Riapri",
      deleteChat: "Elimina conversazione",
      confirmDeleteChat: "Eliminare davvero?",
      edited: "(modificato)",
      resolvedBadge: "Risolta",
      loading: "Caricamento dei commenti…",
      loadFailed: "Impossibile caricare i commenti: {message}",
      offlineNoCache: "Sei offline e questa conversazione non è ancora stata caricata.",
      offline:
        "Sei offline. I commenti esistenti restano visibili, ma non puoi inviarne di nuovi finché non torni online.",
      reconnecting: "Connessione persa. Riconnessione in corso…",
      liveUnavailable: "Aggiornamenti in tempo reale non disponibili: {message}",
      offlineSend: "Sei offline. Non è stato inviato nulla; riprova quando sarai di nuovo online.",
      networkError: "Impossibile raggiungere il server. Riprova.",
      timeoutError: "Il server ha impiegato troppo tempo a rispondere. Riprova.",
      genericError: "Qualcosa è andato storto ({status}).",
      emptyComment: "Scrivi un commento.",
      tooLong: "Un commento può avere al massimo {max} caratteri.",
      nameRequired: "Inserisci il tuo nome.",
      viewers_one: "{count} persona sta guardando",
      viewers_other: "{count} persone stanno guardando",
      announceNewChat: "Nuova conversazione da {name}: {body}",
      announceNewComment: "Nuovo commento da {name}: {body}",
      announceDeleted: "Una conversazione è stata eliminata.",
      chatDeleted: "Questa conversazione è stata eliminata.",
      createFailed: "Impossibile creare la conversazione: {message}",
      dismiss: "Chiudi",
      unknownUser: "Qualcuno",
      you: "tu",
    },
  };

  /**
   * Picks a supported locale: the configured one, else the page's `<html lang>`, else the
   * browser's; anything unknown falls back to English.
   * @param {string | undefined} wanted
   * @returns {string}
   */
  function resolveLocale(wanted) {
    const candidates = [wanted];
    if (!wanted) {
      candidates.push(document.documentElement.lang, navigator.language);
    }
    for (const candidate of candidates) {
      if (!candidate) continue;
      const lower = String(candidate).toLowerCase();
      if (STRINGS[lower]) return lower;
      const base = lower.split(/[-_]/)[0];
      if (STRINGS[base]) return base;
      if (wanted) break; // an explicit but unknown locale means English, not the browser's
    }
    return "en";
  }

  /**
   * @param {string} locale
   * @param {string} key
   * @param {Record<string, string | number>} [params]
   * @returns {string}
   */
  function translate(locale, key, params) {
    const table = STRINGS[locale] || STRINGS.en;
    let chosen = key;
    if (params && typeof params.count === "number") {
      const form = new Intl.PluralRules(locale).select(params.count);
      const plural = `${key}_${form}`;
      const other = `${key}_other`;
      if (plural in table || plural in STRINGS.en) chosen = plural;
      else if (other in table || other in STRINGS.en) chosen = other;
    }
    const text = table[chosen] ?? STRINGS.en[chosen] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) =>
      params && name in params ? String(params[name]) : match,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Types (JSDoc only)
  // ---------------------------------------------------------------------------------------------

  /**
   * @typedef {{id: string, name: string, avatarUrl: string | null, role: string}} User
   * @typedef {{id: string, urlId: string, x: number, y: number, commentCount: number,
   *   resolved: boolean, author: User, createdAt: string, updatedAt: string, version: number,
   *   pending?: boolean}} Chat
   * @typedef {{id: string, chatId: string, body: string, author: User, createdAt: string,
   *   editedAt: string | null, pending?: boolean}} Comment
   * @typedef {{userDataJSONBase64: string, verificationHash: string, timestamp: number}} SsoData
   * @typedef {{sso?: SsoData, guestName?: string}} Identity
   * @typedef {{
   *   server: string, tenantId: string, urlId: string, chatSquarePercentage: number,
   *   locale?: string, hasDarkBackground: boolean, readonly: boolean, sso?: SsoData | null,
   *   onCommentCountUpdated?: (count: number) => void, stylesheet?: string | false
   * }} WidgetConfig
   */

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  const MAX_COMMENT_LENGTH = 2000;
  const FATAL_CLOSE_CODES = new Set([4001, 4003, 4400]);
  const RECONNECT_BASE_MS = 500;
  const RECONNECT_CAP_MS = 20000;
  const REQUEST_TIMEOUT_MS = 15000;
  const FULLSCREEN_BELOW_PX = 768;

  /**
   * Builds an element. Text goes through textContent and attributes through setAttribute, so
   * user data can never become markup.
   * @param {string} tag
   * @param {Record<string, any>} [attrs]
   * @param {(Node | string | null | undefined | false)[]} [children]
   * @returns {HTMLElement}
   */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === "class") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name === "hidden") node.hidden = Boolean(value);
        else node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    if (children) {
      for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  /**
   * replaceChildren() would turn null into the text "null"; this skips empty slots.
   * @param {Element} node
   * @param {(Node | null | undefined | false)[]} children
   */
  function setChildren(node, children) {
    /** @type {Node[]} */
    const nodes = [];
    for (const child of children) if (child) nodes.push(child);
    node.replaceChildren(...nodes);
  }

  /** @returns {string} a random UUID, also in insecure contexts where randomUUID is missing. */
  function uuid() {
    if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
      return globalThis.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** localStorage can throw (privacy modes, sandboxed frames); the widget must not. */
  const storage = {
    /** @param {string} key */
    get(key) {
      try {
        const raw = globalThis.localStorage.getItem(key);
        return raw === null ? null : JSON.parse(raw);
      } catch {
        return null;
      }
    },
    /** @param {string} key @param {unknown} value */
    set(key, value) {
      try {
        globalThis.localStorage.setItem(key, JSON.stringify(value));
      } catch {
        /* not persisted: the session simply lasts for this page view */
      }
    },
    /** @param {string} key */
    remove(key) {
      try {
        globalThis.localStorage.removeItem(key);
      } catch {
        /* ignore */
      }
    },
  };

  /** @param {string} server */
  function normalizeServer(server) {
    return String(server || "").replace(/\/+$/, "");
  }

  /** `navigator.onLine === false` is reliable (true is not), so only false counts as offline. */
  function browserOffline() {
    return typeof navigator !== "undefined" && navigator.onLine === false;
  }

  /** @param {number} attempt */
  function backoffDelay(attempt) {
    // Full jitter: spreads reconnecting clients after a server restart instead of a stampede.
    return Math.random() * Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
  }

  /** @param {string} text a 32-bit FNV-1a hash, to keep long derived urlIds within 512 chars. */
  function shortHash(text) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0).toString(16).padStart(8, "0");
  }

  /**
   * The default urlId: page origin + path + image src. Query and hash of the page are left out
   * so tracking parameters do not split one image's conversations.
   * @param {HTMLImageElement} img
   */
  function deriveUrlId(img) {
    // The src attribute, not currentSrc: a <picture>/srcset may pick different files per device,
    // and every device must land in the same conversation.
    const src = img.src || img.currentSrc || "";
    const id = `${location.origin}${location.pathname}|${src}`;
    return id.length <= 512 ? id : `${id.slice(0, 500)}#${shortHash(id)}`;
  }

  /** @param {string | null | undefined} url @returns {boolean} */
  function isSafeImageUrl(url) {
    if (!url) return false;
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:";
    } catch {
      return false;
    }
  }

  /** Tiny event emitter used by stores and connections. */
  class Emitter {
    constructor() {
      /** @type {Set<(type: string, detail?: any) => void>} */
      this.listeners = new Set();
    }
    /** @param {(type: string, detail?: any) => void} fn */
    listen(fn) {
      this.listeners.add(fn);
      return () => this.listeners.delete(fn);
    }
    /** @param {string} type @param {any} [detail] */
    emit(type, detail) {
      for (const fn of Array.from(this.listeners)) {
        try {
          fn(type, detail);
        } catch (err) {
          console.error("imagechat: listener failed", err);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Network status: one listener pair for the whole page
  // ---------------------------------------------------------------------------------------------

  const network = new Emitter();
  if (typeof window !== "undefined") {
    window.addEventListener("online", () => network.emit("online"));
    window.addEventListener("offline", () => network.emit("offline"));
  }

  /** broadcastIds this page made: events carrying one are our own echo and are not re-applied. */
  const ownBroadcastIds = new Set();

  /** Plenty for the writes of one page view; keeps a page left open for days bounded. */
  const OWN_BROADCAST_IDS_KEPT = 5000;

  function newBroadcastId() {
    const id = uuid();
    ownBroadcastIds.add(id);
    if (ownBroadcastIds.size > OWN_BROADCAST_IDS_KEPT) {
      // Sets iterate in insertion order: drop the oldest, long since echoed.
      ownBroadcastIds.delete(ownBroadcastIds.values().next().value);
    }
    return id;
  }

  // ---------------------------------------------------------------------------------------------
  // REST
  // ---------------------------------------------------------------------------------------------

  class ApiError extends Error {
    /**
     * @param {string} message
     * @param {{status?: number, code?: string}} [info]
     */
    constructor(message, info = {}) {
      super(message);
      this.name = "ApiError";
      this.status = info.status ?? 0;
      this.code = info.code ?? "error";
    }
  }

  /** REST access and the session token of one (server, tenant); shared by widgets of a page. */
  class Api {
    /** @type {Map<string, Api>} */
    static instances = new Map();

    /** @param {string} server @param {string} tenantId */
    static for(server, tenantId) {
      const key = `${server}|${tenantId}`;
      let api = Api.instances.get(key);
      if (!api) {
        api = new Api(server, tenantId);
        Api.instances.set(key, api);
      }
      return api;
    }

    /** @param {string} server @param {string} tenantId */
    constructor(server, tenantId) {
      this.server = server;
      this.tenantId = tenantId;
      this.base = `${server}/api/v1/${encodeURIComponent(tenantId)}`;
      this.sessionKey = `imagechat:session:${server}|${tenantId}`;
      this.guestNameKey = `imagechat:guest-name:${tenantId}`;
      /** @type {Promise<any> | null} */
      this.sessionPromise = null;
      this.changes = new Emitter();
    }

    /** The cached session, if it is still valid for at least another minute. */
    get session() {
      const session = storage.get(this.sessionKey);
      if (!session || typeof session.token !== "string") return null;
      const expires = Date.parse(session.expiresAt);
      if (!Number.isFinite(expires) || expires - 60000 < Date.now()) return null;
      return session;
    }

    /** @returns {User | null} */
    get user() {
      return this.session?.user ?? null;
    }

    /** @returns {string | null} */
    get guestName() {
      const name = storage.get(this.guestNameKey);
      return typeof name === "string" && name.trim() ? name : null;
    }

    /** @param {string} name */
    rememberGuestName(name) {
      storage.set(this.guestNameKey, name);
    }

    forgetSession() {
      storage.remove(this.sessionKey);
      this.changes.emit("session");
    }

    /**
     * Does the cached session belong to this identity? A different SSO user on the same browser
     * must not write with the previous user's token.
     * @param {Identity} identity
     */
    sessionMatches(identity) {
      const session = this.session;
      if (!session) return false;
      if (identity.sso) return session.ssoKey === identity.sso.userDataJSONBase64;
      return session.kind === "guest";
    }

    /**
     * Whether a write would have to ask for a name first.
     * @param {Identity} identity
     */
    needsGuestName(identity) {
      return !identity.sso && !this.sessionMatches(identity) && !this.guestName;
    }

    /**
     * Returns a valid token, creating a session when needed (one request at a time).
     * @param {Identity} identity
     * @returns {Promise<string>}
     */
    async ensureSession(identity) {
      if (this.sessionMatches(identity)) return this.session.token;
      if (!this.sessionPromise) {
        this.sessionPromise = this.createSession(identity).finally(() => {
          this.sessionPromise = null;
        });
      }
      const session = await this.sessionPromise;
      return session.token;
    }

    /** @param {Identity} identity */
    async createSession(identity) {
      /** @type {Record<string, unknown>} */
      let body;
      let kind;
      if (identity.sso) {
        body = { sso: identity.sso };
        kind = "sso";
      } else {
        const name = identity.guestName || this.guestName;
        if (!name) throw new ApiError("name required", { code: "name_required" });
        body = { guest: { name } };
        kind = "guest";
      }
      const answer = await this.send("POST", "/sessions", { body });
      const session = {
        token: answer.token,
        user: answer.user,
        expiresAt: answer.expiresAt,
        kind,
        ssoKey: identity.sso ? identity.sso.userDataJSONBase64 : null,
      };
      storage.set(this.sessionKey, session);
      this.changes.emit("session");
      return session;
    }

    /**
     * A read. Sends the token when there is one (private tenants need it); a stale token is
     * dropped and the read retried without it, an SSO identity logs in when the tenant asks.
     * @param {string} path
     * @param {Identity} identity
     */
    async read(path, identity) {
      const token = this.session?.token ?? null;
      try {
        return await this.send("GET", path, { token });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        if (token) {
          this.forgetSession();
          return this.read(path, identity);
        }
        if (identity.sso) {
          const fresh = await this.ensureSession(identity);
          return this.send("GET", path, { token: fresh });
        }
        throw err;
      }
    }

    /**
     * A write: needs a session; a 401 (expired or revoked token) gets one retry with a new
     * session. The body carries a broadcastId, so the retry is applied at most once.
     * @param {string} method
     * @param {string} path
     * @param {Identity} identity
     * @param {unknown} [body]
     */
    async write(method, path, identity, body) {
      const token = await this.ensureSession(identity);
      try {
        return await this.send(method, path, { body, token });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        this.forgetSession();
        const fresh = await this.ensureSession(identity);
        return this.send(method, path, { body, token: fresh });
      }
    }

    /**
     * @param {string} method
     * @param {string} path
     * @param {{body?: unknown, token?: string | null}} [options]
     */
    async send(method, path, options = {}) {
      /** @type {Record<string, string>} */
      const headers = { Accept: "application/json" };
      if (options.body !== undefined) headers["Content-Type"] = "application/json";
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
      let response;
      try {
        response = await fetch(this.base + path, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: controller.signal,
          credentials: "omit",
        });
      } catch (err) {
        const aborted = err && /** @type {any} */ (err).name === "AbortError";
        throw new ApiError(aborted ? "timeout" : "network", {
          code: aborted ? "timeout" : "network",
        });
      } finally {
        clearTimeout(timer);
      }
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      if (!response.ok) {
        const message = data && typeof data.message === "string" ? data.message : "";
        throw new ApiError(message, {
          status: response.status,
          code: data && typeof data.code === "string" ? data.code : `http_${response.status}`,
        });
      }
      return data;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Live connection: ONE WebSocket per server URL for the whole page
  // ---------------------------------------------------------------------------------------------

  /**
   * States: "idle" (no channels), "connecting", "open", "waiting" (backoff timer running),
   * "offline" (browser offline: wait for the online event, no timer), "closed" (refused with a
   * fatal close code: never reconnects).
   */
  class LiveConnection {
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
      /** @type {Map<string, Channel>} */
      this.channels = new Map();
      /** @type {WebSocket | null} */
      this.ws = null;
      this.state = "idle";
      this.attempt = 0;
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.timer = null;
      this.fatalReason = "";
      this.events = new Emitter();
      this.unlisten = network.listen((type) => {
        if (type === "online") this.onBrowserOnline();
        else if (type === "offline") this.onBrowserOffline();
      });
    }

    /** @param {Channel} channel */
    add(channel) {
      this.channels.set(channel.key, channel);
      if (this.state === "open") channel.onSocketOpen();
      else this.ensureConnecting();
    }

    /** @param {Channel} channel */
    remove(channel) {
      if (this.channels.get(channel.key) !== channel) return;
      this.channels.delete(channel.key);
      this.send({ type: "unsubscribe", tenantId: channel.tenantId, urlId: channel.urlId });
      if (this.channels.size === 0) this.dispose();
    }

    /** @param {Channel} channel */
    subscribe(channel) {
      /** @type {Record<string, unknown>} */
      const message = { type: "subscribe", tenantId: channel.tenantId, urlId: channel.urlId };
      if (channel.epoch !== null && channel.offset !== null) {
        message.epoch = channel.epoch;
        message.offset = channel.offset;
      }
      const token = channel.api.session?.token;
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
        this.scheduleReconnect();
        return;
      }
      this.ws = ws;
      ws.addEventListener("open", () => {
        if (this.ws !== ws) return;
        this.setState("open");
        for (const channel of this.channels.values()) channel.onSocketOpen();
      });
      ws.addEventListener("message", (event) => {
        if (this.ws !== ws) return;
        // A message proves the connection really works; only then forget past failures, so a
        // server that accepts and immediately drops us still gets an increasing backoff.
        this.attempt = 0;
        this.onFrame(event.data);
      });
      ws.addEventListener("close", (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
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
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      this.setState("waiting");
      this.timer = setTimeout(() => this.connect(), delay);
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
      switch (message.type) {
        case "subscribed":
          channel.onSubscribed(message);
          break;
        case "presence":
          channel.onPresence(message);
          break;
        case "error":
          channel.onError(message);
          break;
        case "new-image-chat":
        case "image-chat-updated":
        case "deleted-image-chat":
          channel.onLiveEvent(message);
          break;
        default:
          break; // unknown types are ignored so the server can add some later
      }
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

  // ---------------------------------------------------------------------------------------------
  // Channel store: the chats of one image and where its event stream is
  // ---------------------------------------------------------------------------------------------

  /** @param {string} server @param {string} tenantId @param {string} urlId */
  function channelKey(server, tenantId, urlId) {
    return `${server}\u0000${tenantId}\u0000${urlId}`;
  }

  /**
   * Holds the chats of one (tenantId, urlId) and applies snapshots and events to them. Several
   * widgets showing the same image on one page share one Channel (and one subscription).
   *
   * Emits: "chats" (any marker change), "thread" (comments of a chat changed; detail chatId),
   * "replaced" ({tempId, chat}), "deleted" ({chatId, byOthers}), "announce" (text params),
   * "presence" (viewers), "error" (error frame), "status".
   */
  class Channel {
    /** @type {Map<string, Channel>} */
    static instances = new Map();

    /** @param {string} server @param {string} tenantId @param {string} urlId */
    static acquire(server, tenantId, urlId) {
      const key = channelKey(server, tenantId, urlId);
      let channel = Channel.instances.get(key);
      if (!channel) {
        channel = new Channel(server, tenantId, urlId);
        Channel.instances.set(key, channel);
        channel.start();
      }
      channel.users += 1;
      return channel;
    }

    /** @param {string} server @param {string} tenantId @param {string} urlId */
    constructor(server, tenantId, urlId) {
      this.server = server;
      this.tenantId = tenantId;
      this.urlId = urlId;
      this.key = channelKey(server, tenantId, urlId);
      this.api = Api.for(server, tenantId);
      this.connection = LiveConnection.for(server);
      this.events = new Emitter();
      this.users = 0;
      /** @type {Map<string, Chat>} */
      this.chats = new Map();
      /** Comments of chats whose thread was loaded (or created here): the offline cache. */
      /** @type {Map<string, Comment[]>} */
      this.comments = new Map();
      /** Ids deleted while a write about them was in flight, so a late answer cannot revive them. */
      this.deletedIds = new Set();
      /** @type {string | null} */
      this.epoch = null;
      /** @type {number | null} */
      this.offset = null;
      this.loaded = false;
      /** @type {Promise<void> | null} */
      this.snapshotPromise = null;
      /** True while a re-subscribe for a hole in the offsets is on its way. */
      this.resubscribing = false;
      this.live = false;
      this.sentToken = false;
      this.viewers = 0;
      /** @type {string | null} */
      this.loadError = null;
      this.snapshotAttempt = 0;
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.retryTimer = null;
      this.failedRecoveries = 0;
      this.disposed = false;
      /** @type {Identity | null} who reads, for private tenants (set by the widgets) */
      this.readIdentity = null;
    }

    start() {
      // Snapshot and socket handshake run in parallel; whichever finishes last subscribes.
      this.connection.add(this);
      this.loadSnapshot();
    }

    release() {
      this.users -= 1;
      if (this.users > 0) return;
      this.disposed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      Channel.instances.delete(this.key);
      this.connection.remove(this);
    }

    /** @returns {Identity} the identity used for authenticated reads (set by a widget). */
    get identity() {
      return this.readIdentity || {};
    }

    /**
     * Loads GET /chats (one in flight at a time) and then subscribes from its offset.
     * @returns {Promise<void>}
     */
    loadSnapshot() {
      if (this.snapshotPromise) return this.snapshotPromise;
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.snapshotPromise = (async () => {
        try {
          const snapshot = await this.api.read(
            `/chats?urlId=${encodeURIComponent(this.urlId)}`,
            this.identity,
          );
          if (this.disposed) return;
          this.applySnapshot(snapshot);
          this.snapshotAttempt = 0;
          this.loadError = null;
          this.events.emit("status");
          this.connection.subscribe(this);
        } catch (err) {
          if (this.disposed) return;
          this.loadError = err instanceof ApiError ? err.code : "network";
          this.loadErrorObject = err;
          this.events.emit("status");
          this.scheduleSnapshotRetry();
        }
      })().finally(() => {
        this.snapshotPromise = null;
      });
      return this.snapshotPromise;
    }

    scheduleSnapshotRetry() {
      // Offline: the socket's "online" path triggers the retry instead of a timer.
      if (browserOffline() || this.retryTimer) return;
      const delay = backoffDelay(this.snapshotAttempt);
      this.snapshotAttempt += 1;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.disposed) this.loadSnapshot();
      }, delay);
    }

    /** @param {any} snapshot */
    applySnapshot(snapshot) {
      const previous = this.chats;
      /** @type {Map<string, Chat>} */
      const next = new Map();
      for (const chat of snapshot.chats || []) next.set(chat.id, chat);
      // Markers still being created here are not on the server yet: keep them.
      for (const [id, chat] of previous) if (chat.pending) next.set(id, chat);
      for (const [id, chat] of previous) {
        if (chat.pending) continue;
        const fresh = next.get(id);
        if (!fresh) {
          this.comments.delete(id);
          this.events.emit("deleted", { chatId: id, byOthers: true });
        } else if (fresh.version !== chat.version) {
          this.comments.delete(id); // stale thread: reload when opened
          this.events.emit("thread", id);
        }
      }
      this.chats = next;
      this.epoch = snapshot.epoch ?? null;
      this.offset = typeof snapshot.offset === "number" ? snapshot.offset : 0;
      this.loaded = true;
      this.events.emit("chats");
    }

    onSocketOpen() {
      this.live = false;
      this.resubscribing = false;
      if (this.loaded && !this.snapshotPromise) this.connection.subscribe(this);
      else if (!this.loaded && !this.snapshotPromise) this.loadSnapshot();
      // otherwise the running snapshot load subscribes when it finishes
    }

    onSocketClosed() {
      this.live = false;
      this.events.emit("status");
    }

    /** @param {any} message */
    onSubscribed(message) {
      if (!this.loaded) return; // a late answer to a channel we reloaded meanwhile
      this.resubscribing = false;
      if (message.recovered === false) {
        // History no longer reaches our offset (or the epoch changed): reload the snapshot,
        // whose own subscribe carries the new offset.
        this.failedRecoveries += 1;
        this.resyncFromSnapshot();
        return;
      }
      this.failedRecoveries = 0;
      for (const event of message.events || []) this.applyEvent(event, false);
      if (typeof message.epoch === "string" || typeof message.epoch === "number") {
        this.epoch = message.epoch;
      }
      if (
        typeof message.offset === "number" &&
        this.offset !== null &&
        this.offset < message.offset
      ) {
        // The server is further than the events it gave us: do not guess, reload.
        this.resyncFromSnapshot();
        return;
      }
      this.live = true;
      this.events.emit("status");
    }

    resyncFromSnapshot() {
      if (this.failedRecoveries > 3) {
        // Something is odd on the server: keep trying, but not in a tight loop.
        if (this.retryTimer) return;
        this.retryTimer = setTimeout(
          () => {
            this.retryTimer = null;
            if (!this.disposed) this.loadSnapshot();
          },
          backoffDelay(Math.min(this.failedRecoveries, 6)),
        );
        return;
      }
      this.loadSnapshot();
    }

    /** @param {any} message */
    onPresence(message) {
      if (typeof message.viewers !== "number") return;
      this.viewers = message.viewers;
      this.events.emit("presence", this.viewers);
    }

    /** @param {any} message */
    onError(message) {
      if (message.code === "unauthorized" && this.sentToken) {
        // Our cached token was refused: drop it and try again without (public tenants).
        this.api.forgetSession();
        this.connection.subscribe(this);
        return;
      }
      this.events.emit("error", message);
    }

    /** @param {any} event */
    onLiveEvent(event) {
      this.applyEvent(event, true);
    }

    /**
     * Applies one event in offset order. Old offsets are ignored; a hole means something was
     * lost, so we re-subscribe from our offset and let the server replay the missing ones.
     * @param {any} event
     * @param {boolean} live
     */
    applyEvent(event, live) {
      if (this.offset === null || typeof event.offset !== "number") return;
      if (event.offset <= this.offset) return;
      if (event.offset > this.offset + 1) {
        // One re-subscribe per hole: later events of the same burst are covered by its replay.
        if (live && !this.resubscribing) this.resubscribing = this.connection.subscribe(this);
        return;
      }
      this.offset = event.offset;
      if (event.broadcastId && ownBroadcastIds.has(event.broadcastId)) {
        // Our own write: already applied from its REST answer (or about to be).
        return;
      }
      switch (event.type) {
        case "new-image-chat":
          this.onNewChat(event);
          break;
        case "image-chat-updated":
          this.onChatUpdated(event);
          break;
        case "deleted-image-chat":
          this.removeChat(event.chatId, true);
          this.events.emit("announce", { key: "announceDeleted" });
          break;
        default:
          break;
      }
    }

    /** @param {any} event */
    onNewChat(event) {
      if (!event.chat || this.deletedIds.has(event.chat.id)) return;
      this.upsertChat(event.chat);
      if (event.comment) this.comments.set(event.chat.id, [event.comment]);
      this.events.emit("chats");
      this.events.emit("announce", {
        key: "announceNewChat",
        name: event.comment?.author?.name ?? event.chat.author?.name,
        body: event.comment?.body ?? "",
      });
    }

    /** @param {any} event */
    onChatUpdated(event) {
      if (!event.chat || this.deletedIds.has(event.chat.id)) return;
      const chatId = event.chat.id;
      this.upsertChat(event.chat);
      const cached = this.comments.get(chatId);
      const comment = event.comment;
      if (cached) {
        if (event.change === "comment-added" && comment) {
          if (!cached.some((c) => c.id === comment.id)) cached.push(comment);
        } else if (event.change === "comment-edited" && comment) {
          const index = cached.findIndex((c) => c.id === comment.id);
          if (index >= 0) cached[index] = comment;
        } else if (event.change === "comment-deleted") {
          if (comment) {
            const index = cached.findIndex((c) => c.id === comment.id);
            if (index >= 0) cached.splice(index, 1);
          } else {
            this.comments.delete(chatId); // cannot tell which one: reload on next open
          }
        }
      }
      this.events.emit("chats");
      this.events.emit("thread", chatId);
      if (event.change === "comment-added" && comment) {
        this.events.emit("announce", {
          key: "announceNewComment",
          name: comment.author?.name,
          body: comment.body,
        });
      }
    }

    /**
     * Stores a chat unless we already hold a newer version (a REST answer may arrive after an
     * event about a later change).
     * @param {Chat} chat
     */
    upsertChat(chat) {
      const existing = this.chats.get(chat.id);
      if (
        existing &&
        typeof existing.version === "number" &&
        typeof chat.version === "number" &&
        chat.version < existing.version
      ) {
        return;
      }
      this.chats.set(chat.id, chat);
    }

    /** @param {string} chatId @param {boolean} byOthers */
    removeChat(chatId, byOthers) {
      this.deletedIds.add(chatId);
      const had = this.chats.delete(chatId);
      this.comments.delete(chatId);
      if (had) {
        this.events.emit("deleted", { chatId, byOthers });
        this.events.emit("chats");
      }
    }

    /** Sum of comments over all markers, for onCommentCountUpdated. */
    get commentCount() {
      let total = 0;
      for (const chat of this.chats.values()) total += Number(chat.commentCount) || 0;
      return total;
    }

    // --- thread loading ------------------------------------------------------------------------

    /** @param {string} chatId */
    async loadThread(chatId) {
      const answer = await this.api.read(`/chats/${encodeURIComponent(chatId)}`, this.identity);
      if (this.deletedIds.has(chatId)) return;
      if (answer.chat) this.upsertChat(answer.chat);
      const pendingHere = (this.comments.get(chatId) || []).filter((c) => c.pending);
      this.comments.set(chatId, [...(answer.comments || []), ...pendingHere]);
      this.events.emit("chats");
      this.events.emit("thread", chatId);
    }

    // --- writes --------------------------------------------------------------------------------

    /**
     * Creates a chat: shows it at once under a temporary id, then swaps in the server's answer.
     * @param {{x: number, y: number, body: string, identity: Identity, imageSrc: string}} input
     */
    async createChat(input) {
      const broadcastId = newBroadcastId();
      const tempId = `temp-${broadcastId}`;
      const now = new Date().toISOString();
      const author = this.api.user ?? {
        id: "me",
        name: input.identity.guestName || this.api.guestName || "",
        avatarUrl: null,
        role: "guest",
      };
      /** @type {Chat} */
      const temp = {
        id: tempId,
        urlId: this.urlId,
        x: input.x,
        y: input.y,
        commentCount: 1,
        resolved: false,
        author,
        createdAt: now,
        updatedAt: now,
        version: 0,
        pending: true,
      };
      this.chats.set(tempId, temp);
      this.comments.set(tempId, [
        {
          id: `temp-c-${broadcastId}`,
          chatId: tempId,
          body: input.body,
          author,
          createdAt: now,
          editedAt: null,
          pending: true,
        },
      ]);
      this.events.emit("chats");
      try {
        const answer = await this.api.write("POST", "/chats", input.identity, {
          urlId: this.urlId,
          x: input.x,
          y: input.y,
          comment: input.body,
          broadcastId,
          pageUrl: location.origin + location.pathname,
          imageSrc: input.imageSrc || undefined,
        });
        this.chats.delete(tempId);
        this.comments.delete(tempId);
        if (!this.deletedIds.has(answer.chat.id)) {
          this.upsertChat(answer.chat);
          if (answer.comment) this.comments.set(answer.chat.id, [answer.comment]);
        }
        this.events.emit("replaced", { tempId, chat: answer.chat });
        this.events.emit("chats");
        return answer.chat;
      } catch (err) {
        this.chats.delete(tempId);
        this.comments.delete(tempId);
        // If the write did land after all, its event must now be applied, not skipped.
        ownBroadcastIds.delete(broadcastId);
        this.events.emit("deleted", { chatId: tempId, byOthers: false });
        this.events.emit("chats");
        throw err;
      }
    }

    /** @param {string} chatId @param {string} body @param {Identity} identity */
    async addComment(chatId, body, identity) {
      const broadcastId = newBroadcastId();
      const author = this.api.user ?? {
        id: "me",
        name: identity.guestName || "",
        avatarUrl: null,
        role: "guest",
      };
      const tempId = `temp-c-${broadcastId}`;
      const list = this.comments.get(chatId) || [];
      list.push({
        id: tempId,
        chatId,
        body,
        author,
        createdAt: new Date().toISOString(),
        editedAt: null,
        pending: true,
      });
      this.comments.set(chatId, list);
      this.events.emit("thread", chatId);
      const dropTemp = () => {
        const current = this.comments.get(chatId);
        if (!current) return;
        const index = current.findIndex((c) => c.id === tempId);
        if (index >= 0) current.splice(index, 1);
      };
      try {
        const answer = await this.api.write(
          "POST",
          `/chats/${encodeURIComponent(chatId)}/comments`,
          identity,
          { comment: body, broadcastId },
        );
        dropTemp();
        if (this.deletedIds.has(chatId)) return;
        if (answer.chat) this.upsertChat(answer.chat);
        const current = this.comments.get(chatId);
        if (current && answer.comment && !current.some((c) => c.id === answer.comment.id)) {
          current.push(answer.comment);
        }
        this.events.emit("chats");
        this.events.emit("thread", chatId);
      } catch (err) {
        ownBroadcastIds.delete(broadcastId);
        dropTemp();
        this.events.emit("thread", chatId);
        throw err;
      }
    }

    /**
     * A write under a fresh broadcastId, so that its echo is known as ours. If the write fails,
     * the id is let go of: should it have landed after all, its event is then applied.
     * @param {string} method
     * @param {(broadcastId: string) => string} pathOf
     * @param {Identity} identity
     * @param {(broadcastId: string) => unknown} [bodyOf]
     */
    async ownWrite(method, pathOf, identity, bodyOf) {
      const broadcastId = newBroadcastId();
      try {
        return await this.api.write(method, pathOf(broadcastId), identity, bodyOf?.(broadcastId));
      } catch (err) {
        ownBroadcastIds.delete(broadcastId);
        throw err;
      }
    }

    /** @param {Comment} comment @param {string} body @param {Identity} identity */
    async editComment(comment, body, identity) {
      const answer = await this.ownWrite(
        "PATCH",
        () => `/comments/${encodeURIComponent(comment.id)}`,
        identity,
        (broadcastId) => ({ comment: body, broadcastId }),
      );
      if (answer.chat) this.upsertChat(answer.chat);
      const list = this.comments.get(comment.chatId);
      if (list && answer.comment) {
        const index = list.findIndex((c) => c.id === answer.comment.id);
        if (index >= 0) list[index] = answer.comment;
      }
      this.events.emit("chats");
      this.events.emit("thread", comment.chatId);
    }

    /** @param {Comment} comment @param {Identity} identity */
    async deleteComment(comment, identity) {
      const answer = await this.ownWrite(
        "DELETE",
        (broadcastId) =>
          `/comments/${encodeURIComponent(comment.id)}?broadcastId=${encodeURIComponent(broadcastId)}`,
        identity,
      );
      if (answer && answer.chat) this.upsertChat(answer.chat);
      const list = this.comments.get(comment.chatId);
      if (list) {
        const index = list.findIndex((c) => c.id === comment.id);
        if (index >= 0) list.splice(index, 1);
      }
      this.events.emit("chats");
      this.events.emit("thread", comment.chatId);
    }

    /** @param {string} chatId @param {boolean} resolved @param {Identity} identity */
    async setResolved(chatId, resolved, identity) {
      const answer = await this.ownWrite(
        "PATCH",
        () => `/chats/${encodeURIComponent(chatId)}`,
        identity,
        (broadcastId) => ({ broadcastId, resolved }),
      );
      if (answer.chat) this.upsertChat(answer.chat);
      this.events.emit("chats");
      this.events.emit("thread", chatId);
    }

    /** @param {string} chatId @param {Identity} identity */
    async deleteChat(chatId, identity) {
      await this.ownWrite(
        "DELETE",
        (broadcastId) =>
          `/chats/${encodeURIComponent(chatId)}?broadcastId=${encodeURIComponent(broadcastId)}`,
        identity,
      );
      this.removeChat(chatId, false);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Layout
  // ---------------------------------------------------------------------------------------------

  /**
   * Parses a computed `object-position` ("50% 50%", "10px 0px") into pixel offsets.
   * @param {string} value
   * @param {number} freeX
   * @param {number} freeY
   */
  function parseObjectPosition(value, freeX, freeY) {
    const parts = String(value || "50% 50%")
      .trim()
      .split(/\s+/);
    /** @param {string | undefined} part @param {number} free */
    const one = (part, free) => {
      if (!part) return free / 2;
      if (part.endsWith("%")) return (parseFloat(part) / 100) * free;
      if (part.endsWith("px")) return parseFloat(part);
      if (part === "left" || part === "top") return 0;
      if (part === "right" || part === "bottom") return free;
      return free / 2;
    };
    return [one(parts[0], freeX), one(parts[1] ?? parts[0], freeY)];
  }

  /**
   * Where the picture itself is drawn, in viewport pixels: the content box of the <img> minus
   * the letterbox that `object-fit: contain` (or scale-down / none / cover) leaves. Markers are
   * placed relative to this box so their percentages refer to the picture, not its frame.
   * `clip` says how much of the box falls outside the element (cover, none).
   * @param {HTMLImageElement} img
   */
  function renderedImageBox(img) {
    const rect = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    const px = (/** @type {string} */ v) => parseFloat(v) || 0;
    const left = rect.left + px(style.borderLeftWidth) + px(style.paddingLeft);
    const top = rect.top + px(style.borderTopWidth) + px(style.paddingTop);
    const width = Math.max(
      0,
      rect.right - px(style.borderRightWidth) - px(style.paddingRight) - left,
    );
    const height = Math.max(
      0,
      rect.bottom - px(style.borderBottomWidth) - px(style.paddingBottom) - top,
    );
    const box = { left, top, width, height, clip: { top: 0, right: 0, bottom: 0, left: 0 } };
    const nw = img.naturalWidth;
    const nh = img.naturalHeight;
    const fit = style.objectFit;
    if (!nw || !nh || !width || !height || !fit || fit === "fill") return box;
    const sx = width / nw;
    const sy = height / nh;
    let scale;
    if (fit === "contain") scale = Math.min(sx, sy);
    else if (fit === "cover") scale = Math.max(sx, sy);
    else if (fit === "none") scale = 1;
    else if (fit === "scale-down") scale = Math.min(1, Math.min(sx, sy));
    else return box;
    const w = nw * scale;
    const h = nh * scale;
    const [offsetX, offsetY] = parseObjectPosition(style.objectPosition, width - w, height - h);
    const drawn = { left: left + offsetX, top: top + offsetY, width: w, height: h };
    return {
      ...drawn,
      clip: {
        left: Math.max(0, left - drawn.left),
        top: Math.max(0, top - drawn.top),
        right: Math.max(0, drawn.left + w - (left + width)),
        bottom: Math.max(0, drawn.top + h - (top + height)),
      },
    };
  }

  /**
   * Moves an absolutely positioned element so its border box lands on viewport (x, y). Works
   * whatever its containing block is, by correcting the current position by the measured error.
   * @param {HTMLElement} node
   * @param {number} x
   * @param {number} y
   */
  function placeAtViewport(node, x, y) {
    const current = node.getBoundingClientRect();
    const left = parseFloat(node.style.left) || 0;
    const top = parseFloat(node.style.top) || 0;
    node.style.left = `${left + (x - current.left)}px`;
    node.style.top = `${top + (y - current.top)}px`;
  }

  /**
   * Chooses where a floating window of size (w, h) goes next to an anchor rectangle: right,
   * left, below or above, the first side where it fits in the viewport; otherwise the side with
   * the most room, clamped into view.
   * @param {{left: number, top: number, right: number, bottom: number}} anchor
   * @param {number} w
   * @param {number} h
   */
  function chooseFloatingPosition(anchor, w, h) {
    const gap = 8;
    const margin = 8;
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = window.innerHeight;
    const midY = (anchor.top + anchor.bottom) / 2;
    const midX = (anchor.left + anchor.right) / 2;
    const clampX = (/** @type {number} */ x) => Math.max(margin, Math.min(x, vw - w - margin));
    const clampY = (/** @type {number} */ y) => Math.max(margin, Math.min(y, vh - h - margin));
    const candidates = [
      {
        side: "right",
        x: anchor.right + gap,
        y: clampY(midY - Math.min(h / 2, 40)),
        room: vw - anchor.right - gap - margin,
        need: w,
      },
      {
        side: "left",
        x: anchor.left - gap - w,
        y: clampY(midY - Math.min(h / 2, 40)),
        room: anchor.left - gap - margin,
        need: w,
      },
      {
        side: "below",
        x: clampX(midX - w / 2),
        y: anchor.bottom + gap,
        room: vh - anchor.bottom - gap - margin,
        need: h,
      },
      {
        side: "above",
        x: clampX(midX - w / 2),
        y: anchor.top - gap - h,
        room: anchor.top - gap - margin,
        need: h,
      },
    ];
    const fitting = candidates.find((c) => c.room >= c.need);
    if (fitting) return fitting;
    const best = candidates.reduce((a, b) => (b.room / b.need > a.room / a.need ? b : a));
    return { ...best, x: clampX(best.x), y: clampY(best.y) };
  }

  // ---------------------------------------------------------------------------------------------
  // Stylesheet
  // ---------------------------------------------------------------------------------------------

  /** @type {string} set by imagechat.mjs, which knows its own URL through import.meta */
  let moduleAssetBase = "";

  /** @param {WidgetConfig} config */
  function ensureStylesheet(config) {
    if (config.stylesheet === false) return;
    let href = config.stylesheet || "";
    if (!href && SCRIPT_URL) href = SCRIPT_URL.replace(/imagechat\.js(\?.*)?$/, "imagechat.css");
    if (!href && moduleAssetBase) href = new URL("imagechat.css", moduleAssetBase).href;
    if (!href && config.server) href = `${config.server}/widget/imagechat.css`;
    if (!href) return;
    for (const link of document.querySelectorAll("link[data-imagechat-css]")) {
      if (/** @type {HTMLLinkElement} */ (link).href === new URL(href, location.href).href) return;
    }
    document.head.append(el("link", { rel: "stylesheet", href, "data-imagechat-css": true }));
  }

  // ---------------------------------------------------------------------------------------------
  // Floating windows: the composer and the thread
  // ---------------------------------------------------------------------------------------------

  /**
   * Puts a floating window next to an anchor rectangle (viewport pixels), or full-screen when
   * the viewport is narrow.
   * @param {HTMLElement} node
   * @param {{left: number, top: number, right: number, bottom: number}} anchor
   */
  function placeFloating(node, anchor) {
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const fullscreen = vw < FULLSCREEN_BELOW_PX;
    node.classList.toggle("imagechat-floating--fullscreen", fullscreen);
    if (fullscreen) {
      node.style.left = "";
      node.style.top = "";
      return;
    }
    if (!node.style.left) {
      node.style.left = "0px";
      node.style.top = "0px";
    }
    const size = node.getBoundingClientRect();
    const spot = chooseFloatingPosition(anchor, size.width || 300, size.height || 200);
    node.dataset.side = spot.side;
    placeAtViewport(node, spot.x, spot.y);
  }

  /**
   * A destructive button that asks for a second click instead of a blocking confirm() dialog.
   * @param {string} className
   * @param {string} label
   * @param {string} confirmLabel
   * @param {() => void} action
   */
  function confirmButton(className, label, confirmLabel, action) {
    const button = el("button", {
      type: "button",
      class: `imagechat-button imagechat-button--danger ${className}`,
      text: label,
    });
    /** @type {ReturnType<typeof setTimeout> | 0} */
    let armed = 0;
    button.addEventListener("click", () => {
      if (armed) {
        clearTimeout(armed);
        armed = 0;
        action();
        return;
      }
      button.textContent = confirmLabel;
      button.classList.add("imagechat-button--armed");
      armed = setTimeout(() => {
        armed = 0;
        button.textContent = label;
        button.classList.remove("imagechat-button--armed");
      }, 4000);
    });
    return button;
  }

  /**
   * Shows a message in a form's alert box.
   * @param {HTMLElement} box
   * @param {string} message
   */
  function showError(box, message) {
    box.textContent = message;
    box.hidden = false;
  }

  /** An alert box for a form's errors, hidden until a message is shown in it. */
  function errorBox() {
    const node = el("div", { class: "imagechat-error", role: "alert", hidden: true });
    return { node, show: (/** @type {string} */ message) => showError(node, message) };
  }

  /**
   * Wires Ctrl/Cmd+Enter in a textarea to submit its form (plain Enter makes a new line).
   * @param {HTMLTextAreaElement} area
   * @param {HTMLFormElement} form
   */
  function submitOnCtrlEnter(area, form) {
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  /** The form that starts a new conversation at a clicked spot. */
  class ComposerView {
    /** @param {Widget} widget */
    constructor(widget) {
      this.widget = widget;
      this.node = /** @type {HTMLFormElement} */ (
        el("form", {
          class: "imagechat-composer imagechat-floating",
          hidden: true,
          novalidate: true,
        })
      );
      /** @type {{x: number, y: number} | null} where the new marker goes, in percent */
      this.at = null;
      /** Dashed square on the picture showing where the new marker goes. */
      this.ghost = el("div", { class: "imagechat-ghost", "aria-hidden": "true", hidden: true });
      widget.surface.append(this.ghost);
      this.node.addEventListener("keydown", (event) => widget.onEscape(event));
      this.node.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
    }

    get isOpen() {
      return !this.node.hidden;
    }

    /** @param {number} x @param {number} y */
    open(x, y) {
      this.widget.thread.close(false);
      const previous = /** @type {HTMLTextAreaElement | null} */ (
        this.node.querySelector("textarea")
      );
      this.at = { x, y };
      this.render(previous ? previous.value : "", "");
      this.ghost.style.left = `${x}%`;
      this.ghost.style.top = `${y}%`;
      this.ghost.hidden = false;
      this.node.hidden = false;
      this.position();
      const first =
        this.node.querySelector("input[name=name]") || this.node.querySelector("textarea");
      if (first) /** @type {HTMLElement} */ (first).focus();
    }

    /** @param {string} text @param {string} error */
    render(text, error) {
      const widget = this.widget;
      const area = /** @type {HTMLTextAreaElement} */ (
        el("textarea", {
          name: "comment",
          rows: "3",
          maxlength: String(MAX_COMMENT_LENGTH),
          placeholder: widget.t("composerPlaceholder"),
          "aria-label": widget.t("composerLabel"),
        })
      );
      area.value = text;
      submitOnCtrlEnter(area, this.node);
      const cancel = el("button", {
        type: "button",
        class: "imagechat-button imagechat-cancel",
        text: widget.t("cancel"),
      });
      cancel.addEventListener("click", () => this.close(true));
      setChildren(this.node, [
        el("div", { class: "imagechat-composer-title", text: widget.t("composerLabel") }),
        widget.needsName() ? widget.nameField() : null,
        area,
        el("div", { class: "imagechat-error", role: "alert", text: error, hidden: !error }),
        el("div", { class: "imagechat-actions" }, [
          cancel,
          el("button", {
            type: "submit",
            class: "imagechat-button imagechat-button--primary imagechat-submit",
            text: widget.t("post"),
          }),
        ]),
      ]);
      this.node.setAttribute("aria-label", widget.t("composerLabel"));
    }

    /** @param {string} message */
    showError(message) {
      const box = /** @type {HTMLElement | null} */ (this.node.querySelector(".imagechat-error"));
      if (box) showError(box, message);
    }

    /** @param {boolean} refocus */
    close(refocus) {
      if (!this.isOpen) return;
      this.node.hidden = true;
      this.node.replaceChildren();
      this.at = null;
      this.ghost.hidden = true;
      if (refocus && !this.widget.config.readonly)
        this.widget.surface.focus({ preventScroll: true });
    }

    submit() {
      const widget = this.widget;
      if (!this.isOpen || !this.at) return;
      const area = /** @type {HTMLTextAreaElement} */ (this.node.querySelector("textarea"));
      const body = area.value;
      // Offline means refuse now: nothing is sent and nothing is queued for later.
      if (browserOffline()) {
        this.showError(widget.t("offlineSend"));
        return;
      }
      const invalid = widget.checkBody(body) || widget.takeGuestName(this.node);
      if (invalid) {
        this.showError(invalid);
        return;
      }
      const { x, y } = this.at;
      this.close(false);
      const imageSrc = widget.img.currentSrc || widget.img.src;
      widget.channel
        .createChat({ x, y, body: body.trim(), identity: widget.identity, imageSrc })
        .catch((err) => {
          if (widget.destroyed) return;
          const message = widget.errorText(err);
          widget.showNotice(widget.t("createFailed", { message }));
          // Give the text back so nothing typed is lost.
          this.open(x, y);
          const again = /** @type {HTMLTextAreaElement | null} */ (
            this.node.querySelector("textarea")
          );
          if (again) again.value = body;
          this.showError(message);
        });
    }

    position() {
      if (!this.isOpen || !this.at) return;
      const rect = this.widget.surface.getBoundingClientRect();
      const half = ((this.widget.config.chatSquarePercentage / 100) * rect.width) / 2;
      const cx = rect.left + (this.at.x / 100) * rect.width;
      const cy = rect.top + (this.at.y / 100) * rect.height;
      placeFloating(this.node, {
        left: cx - half,
        right: cx + half,
        top: cy - half,
        bottom: cy + half,
      });
    }
  }

  /** The floating dialog showing one conversation: its comments, a reply form and actions. */
  class ThreadView {
    /** @param {Widget} widget */
    constructor(widget) {
      this.widget = widget;
      this.node = el("div", {
        class: "imagechat-thread imagechat-floating",
        role: "dialog",
        hidden: true,
        tabindex: "-1",
      });
      /** @type {string | null} the chat shown */
      this.chatId = null;
      /** @type {HTMLElement | null} the marker to refocus when the thread closes */
      this.returnFocusTo = null;
      /** @type {string | null} the own comment shown with an edit form */
      this.editingCommentId = null;
      this.error = "";
      this.loading = false;
      this.node.addEventListener("keydown", (event) => widget.onEscape(event));
    }

    get isOpen() {
      return !this.node.hidden;
    }

    /** @param {string} chatId @param {HTMLElement} marker */
    open(chatId, marker) {
      const widget = this.widget;
      widget.composer.close(false);
      const chat = widget.channel.chats.get(chatId);
      if (!chat) return;
      this.chatId = chatId;
      this.editingCommentId = null;
      this.returnFocusTo = marker;
      this.error = "";
      this.loading = false;
      this.render();
      this.node.hidden = false;
      this.position();
      widget.renderMarkers();
      this.node.focus({ preventScroll: true });
      if (!chat.pending) this.refresh();
    }

    /** Loads the comments; cached ones stay on screen meanwhile (and offline). */
    refresh() {
      const chatId = this.chatId;
      if (!chatId) return;
      const widget = this.widget;
      const cached = widget.channel.comments.get(chatId);
      if (browserOffline()) {
        if (!cached) {
          this.error = widget.t("offlineNoCache");
          this.render();
        }
        return;
      }
      this.error = "";
      this.loading = !cached;
      this.render();
      widget.channel.loadThread(chatId).then(
        () => {
          if (this.chatId !== chatId) return;
          this.loading = false;
          this.render();
        },
        (err) => {
          if (this.chatId !== chatId) return;
          this.loading = false;
          if (!widget.channel.comments.get(chatId)) {
            this.error = browserOffline()
              ? widget.t("offlineNoCache")
              : widget.t("loadFailed", { message: widget.errorText(err) });
          }
          this.render();
        },
      );
    }

    /** @param {boolean} refocus */
    close(refocus) {
      if (!this.isOpen && !this.chatId) return;
      const hadFocusInside = this.node.contains(document.activeElement);
      this.node.hidden = true;
      this.node.replaceChildren();
      this.chatId = null;
      this.editingCommentId = null;
      this.widget.renderMarkers();
      const target = this.returnFocusTo;
      this.returnFocusTo = null;
      if ((refocus || hadFocusInside) && target && target.isConnected) {
        target.focus({ preventScroll: true });
      }
    }

    /** A temporary marker got its server id while its thread was open. */
    /** @param {string} tempId @param {Chat} chat */
    onReplaced(tempId, chat) {
      if (this.chatId !== tempId) return;
      this.chatId = chat.id;
      this.render();
    }

    /** Back online: a thread that could not load while offline loads now. */
    onOnline() {
      if (this.chatId && this.error) this.refresh();
    }

    /** @param {Chat} chat */
    canModerate(chat) {
      const user = this.widget.channel.api.user;
      if (!user || this.widget.config.readonly || chat.pending) return false;
      return user.id === chat.author?.id || user.role === "moderator" || user.role === "admin";
    }

    /**
     * Re-renders the whole window. Live updates call this often, so it keeps what the user is
     * typing (reply, name, edit draft), the scroll position and the focus.
     */
    render() {
      const widget = this.widget;
      const chatId = this.chatId;
      const chat = chatId ? widget.channel.chats.get(chatId) : null;
      if (!chatId || !chat) return;
      const find = (/** @type {string} */ selector) =>
        /** @type {HTMLTextAreaElement | HTMLInputElement | null} */ (
          this.node.querySelector(selector)
        );
      const replyDraft = find(".imagechat-reply textarea")?.value ?? "";
      const nameDraft = find(".imagechat-reply input[name=name]")?.value ?? null;
      const editDraft = find(".imagechat-comment--editing textarea")?.value ?? null;
      const scrollTop = this.node.querySelector(".imagechat-comments")?.scrollTop ?? 0;
      const focusKey = this.focusKey();

      const authorName = chat.author?.name || widget.t("unknownUser");
      const titleId = `imagechat-thread-title-${shortHash(chatId)}`;
      this.node.setAttribute("aria-labelledby", titleId);
      this.node.setAttribute("aria-label", widget.t("threadLabel", { name: authorName }));

      const comments = widget.channel.comments.get(chatId);
      const list = el("ol", { class: "imagechat-comments" });
      for (const comment of comments || []) {
        const draft = comment.id === this.editingCommentId ? (editDraft ?? comment.body) : null;
        list.append(this.commentItem(comment, draft));
      }
      let status = null;
      if (this.loading && !comments) {
        status = el("p", { class: "imagechat-thread-status", text: widget.t("loading") });
      } else if (this.error) {
        status = el("p", {
          class: "imagechat-thread-status imagechat-error",
          role: "alert",
          text: this.error,
        });
      }
      setChildren(this.node, [
        this.header(chat, titleId, authorName),
        status,
        list,
        widget.config.readonly ? null : this.replyForm(chat, replyDraft),
      ]);

      const name = find(".imagechat-reply input[name=name]");
      if (name && nameDraft !== null) name.value = nameDraft;
      const scroller = this.node.querySelector(".imagechat-comments");
      if (scroller) scroller.scrollTop = scrollTop;
      if (focusKey !== null) this.restoreFocus(focusKey);
      this.position();
    }

    /**
     * Describes the focused element inside the thread (if any) well enough to find its
     * replacement after a re-render, so live updates never throw keyboard users out.
     * @returns {string | null}
     */
    focusKey() {
      const active = document.activeElement;
      if (!active || !this.node.contains(active)) return null;
      if (active === this.node) return "";
      const classes = Array.from(active.classList).filter(
        (c) => c.startsWith("imagechat-") && !c.endsWith("--armed"),
      );
      const selector = active.tagName.toLowerCase() + classes.map((c) => `.${c}`).join("");
      const comment = /** @type {HTMLElement | null} */ (active.closest(".imagechat-comment"));
      if (comment)
        return `[data-comment-id="${CSS.escape(comment.dataset.commentId || "")}"] ${selector}`;
      return active.closest(".imagechat-reply") ? `.imagechat-reply ${selector}` : selector;
    }

    /** @param {string} key */
    restoreFocus(key) {
      let target = null;
      try {
        target = key ? this.node.querySelector(key) : null;
      } catch {
        target = null;
      }
      /** @type {HTMLElement} */ (target || this.node).focus({ preventScroll: true });
    }

    /** @param {Chat} chat @param {string} titleId @param {string} authorName */
    header(chat, titleId, authorName) {
      const widget = this.widget;
      const close = el("button", {
        type: "button",
        class: "imagechat-button imagechat-close",
        "aria-label": widget.t("close"),
        text: "×",
      });
      close.addEventListener("click", () => this.close(true));
      const top = el("div", { class: "imagechat-thread-top" }, [
        el("div", { class: "imagechat-thread-header" }, [
          el("h2", {
            id: titleId,
            class: "imagechat-thread-title",
            text: widget.t("threadLabel", { name: authorName }),
          }),
          chat.resolved
            ? el("span", { class: "imagechat-badge", text: widget.t("resolvedBadge") })
            : null,
          close,
        ]),
      ]);
      if (this.canModerate(chat)) {
        const resolve = el("button", {
          type: "button",
          class: "imagechat-button imagechat-resolve",
          text: chat.resolved ? widget.t("reopen") : widget.t("resolve"),
        });
        resolve.addEventListener("click", () =>
          this.run(() => widget.channel.setResolved(chat.id, !chat.resolved, widget.identity)),
        );
        const remove = confirmButton(
          "imagechat-delete-chat",
          widget.t("deleteChat"),
          widget.t("confirmDeleteChat"),
          () => this.run(() => widget.channel.deleteChat(chat.id, widget.identity)),
        );
        top.append(el("div", { class: "imagechat-thread-actions" }, [resolve, remove]));
      }
      return top;
    }

    /**
     * @param {Comment} comment
     * @param {string | null} editDraft the edit form's text, when this comment is being edited
     */
    commentItem(comment, editDraft) {
      const widget = this.widget;
      const user = widget.channel.api.user;
      const own = Boolean(
        user &&
        comment.author &&
        user.id === comment.author.id &&
        !comment.pending &&
        !widget.config.readonly,
      );
      const item = el("li", {
        class: `imagechat-comment${comment.pending ? " imagechat-comment--pending" : ""}`,
        "data-comment-id": comment.id,
      });
      const name = comment.author?.name || widget.t("unknownUser");
      const avatarUrl = comment.author?.avatarUrl;
      const avatar = isSafeImageUrl(avatarUrl)
        ? el("img", {
            class: "imagechat-avatar",
            src: avatarUrl,
            alt: "",
            loading: "lazy",
            referrerpolicy: "no-referrer",
          })
        : el("span", {
            class: "imagechat-avatar",
            "aria-hidden": "true",
            text: name.trim().charAt(0).toUpperCase() || "?",
          });
      item.append(
        el("div", { class: "imagechat-comment-meta" }, [
          avatar,
          el("span", { class: "imagechat-comment-author", text: name }),
          el("time", {
            class: "imagechat-comment-time",
            datetime: comment.createdAt,
            text: this.formatTime(comment.createdAt),
          }),
          comment.editedAt
            ? el("span", { class: "imagechat-comment-edited", text: widget.t("edited") })
            : null,
          comment.pending
            ? el("span", { class: "imagechat-comment-edited", text: widget.t("markerPending") })
            : null,
        ]),
      );
      if (own && editDraft !== null) {
        item.classList.add("imagechat-comment--editing");
        item.append(this.editForm(comment, editDraft));
        return item;
      }
      item.append(el("p", { class: "imagechat-comment-body", text: comment.body }));
      if (own) {
        const edit = el("button", {
          type: "button",
          class: "imagechat-link imagechat-edit",
          text: widget.t("edit"),
        });
        edit.addEventListener("click", () => {
          this.editingCommentId = comment.id;
          this.render();
          const area = this.node.querySelector(".imagechat-comment--editing textarea");
          if (area) /** @type {HTMLElement} */ (area).focus();
        });
        const remove = confirmButton(
          "imagechat-link imagechat-delete-comment",
          widget.t("delete"),
          widget.t("confirmDelete"),
          () => this.run(() => widget.channel.deleteComment(comment, widget.identity)),
        );
        item.append(el("div", { class: "imagechat-comment-actions" }, [edit, remove]));
      }
      return item;
    }

    /** @param {Comment} comment @param {string} text */
    editForm(comment, text) {
      const widget = this.widget;
      const area = /** @type {HTMLTextAreaElement} */ (
        el("textarea", {
          rows: "3",
          maxlength: String(MAX_COMMENT_LENGTH),
          "aria-label": widget.t("edit"),
        })
      );
      area.value = text;
      const error = errorBox();
      const cancel = el("button", {
        type: "button",
        class: "imagechat-button imagechat-cancel",
        text: widget.t("cancel"),
      });
      const form = /** @type {HTMLFormElement} */ (
        el("form", { class: "imagechat-edit-form", novalidate: true }, [
          area,
          error.node,
          el("div", { class: "imagechat-actions" }, [
            cancel,
            el("button", {
              type: "submit",
              class: "imagechat-button imagechat-button--primary",
              text: widget.t("save"),
            }),
          ]),
        ])
      );
      submitOnCtrlEnter(area, form);
      cancel.addEventListener("click", () => {
        this.editingCommentId = null;
        this.render();
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (browserOffline()) return error.show(widget.t("offlineSend"));
        const invalid = widget.checkBody(area.value);
        if (invalid) return error.show(invalid);
        widget.channel.editComment(comment, area.value.trim(), widget.identity).then(
          () => {
            if (this.editingCommentId === comment.id) this.editingCommentId = null;
            this.render();
          },
          (err) => error.show(widget.errorText(err)),
        );
      });
      return form;
    }

    /** @param {Chat} chat @param {string} text */
    replyForm(chat, text) {
      const widget = this.widget;
      const area = /** @type {HTMLTextAreaElement} */ (
        el("textarea", {
          name: "comment",
          rows: "2",
          maxlength: String(MAX_COMMENT_LENGTH),
          placeholder: widget.t("replyPlaceholder"),
          "aria-label": widget.t("replyLabel"),
          disabled: chat.pending ? true : null,
        })
      );
      area.value = text;
      const error = errorBox();
      const form = /** @type {HTMLFormElement} */ (
        el("form", { class: "imagechat-reply", novalidate: true }, [
          widget.needsName() ? widget.nameField() : null,
          area,
          error.node,
          el("div", { class: "imagechat-actions" }, [
            el("button", {
              type: "submit",
              class: "imagechat-button imagechat-button--primary imagechat-submit",
              text: widget.t("send"),
              disabled: chat.pending ? true : null,
            }),
          ]),
        ])
      );
      submitOnCtrlEnter(area, form);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        // Offline means refuse now: nothing is sent and nothing is queued for later.
        if (browserOffline()) return error.show(widget.t("offlineSend"));
        const invalid = widget.checkBody(area.value) || widget.takeGuestName(form);
        if (invalid) return error.show(invalid);
        const body = area.value.trim();
        area.value = "";
        widget.channel.addComment(chat.id, body, widget.identity).catch((err) => {
          if (this.chatId !== chat.id) {
            widget.showNotice(widget.errorText(err));
            return;
          }
          // The form was re-rendered meanwhile: put the text back and say what went wrong.
          const current = /** @type {HTMLTextAreaElement | null} */ (
            this.node.querySelector(".imagechat-reply textarea")
          );
          if (current && !current.value) current.value = body;
          const box = /** @type {HTMLElement | null} */ (
            this.node.querySelector(".imagechat-reply .imagechat-error")
          );
          if (box) showError(box, widget.errorText(err));
        });
      });
      return form;
    }

    /**
     * Runs a thread write, refusing while offline and showing failures in the thread.
     * @param {() => Promise<unknown>} write
     */
    run(write) {
      const widget = this.widget;
      if (browserOffline()) {
        this.error = widget.t("offlineSend");
        this.render();
        return;
      }
      this.error = "";
      write().catch((err) => {
        if (this.chatId) {
          this.error = widget.errorText(err);
          this.render();
        } else {
          widget.showNotice(widget.errorText(err));
        }
      });
    }

    /** @param {string} iso */
    formatTime(iso) {
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) return "";
      try {
        return date.toLocaleString(this.widget.locale, { dateStyle: "medium", timeStyle: "short" });
      } catch {
        return date.toISOString();
      }
    }

    position() {
      if (!this.isOpen || !this.chatId) return;
      const marker = this.widget.markers.get(this.chatId);
      if (marker) placeFloating(this.node, marker.getBoundingClientRect());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Widget: the overlay of one image
  // ---------------------------------------------------------------------------------------------

  /**
   * @param {Element | string} target
   * @returns {HTMLImageElement}
   */
  function resolveImage(target) {
    const node = typeof target === "string" ? document.querySelector(target) : target;
    if (node instanceof HTMLImageElement) return node;
    const img = node && node.querySelector ? node.querySelector("img") : null;
    if (!img) throw new TypeError("ImageChat: target must be an <img> or contain one");
    return /** @type {HTMLImageElement} */ (img);
  }

  /**
   * @param {Partial<WidgetConfig>} input
   * @param {HTMLImageElement} img
   * @returns {WidgetConfig}
   */
  function normalizeConfig(input, img) {
    const server = normalizeServer(
      input.server || (typeof location !== "undefined" ? location.origin : ""),
    );
    const pct = Number(input.chatSquarePercentage);
    return {
      ...input,
      server,
      tenantId: String(input.tenantId || ""),
      urlId: input.urlId ? String(input.urlId) : deriveUrlId(img),
      chatSquarePercentage: Number.isFinite(pct) && pct > 0 ? pct : 5,
      hasDarkBackground: Boolean(input.hasDarkBackground),
      readonly: Boolean(input.readonly),
      sso: input.sso || null,
    };
  }

  /** @param {number} value */
  function clampPercent(value) {
    return Math.round(Math.max(0, Math.min(100, value)) * 1000) / 1000;
  }

  /**
   * One image's overlay: the markers layer, the banners and the wiring between the page, the
   * channel store and the two floating windows.
   */
  class Widget {
    /**
     * @param {Element | string} target
     * @param {Partial<WidgetConfig>} config
     */
    constructor(target, config) {
      this.img = resolveImage(target);
      if (!config || !config.tenantId)
        throw new TypeError("ImageChat: config.tenantId is required");
      /** @type {Partial<WidgetConfig>} */
      this.rawConfig = { ...config };
      this.config = normalizeConfig(this.rawConfig, this.img);
      this.locale = resolveLocale(this.config.locale);
      /** @type {Map<string, HTMLButtonElement>} marker buttons by chat id */
      this.markers = new Map();
      this.lastReportedCount = -1;
      this.noticeTimer = 0;
      this.reconnectBannerTimer = 0;
      this.destroyed = false;
      /** @type {(() => void)[]} */
      this.cleanups = [];

      ensureStylesheet(this.config);
      this.buildDom();
      this.thread = new ThreadView(this);
      this.composer = new ComposerView(this);
      // Floating windows live in <body> so that no overflow:hidden ancestor of the image clips
      // them; they are positioned in document coordinates next to their marker.
      document.body.append(this.thread.node, this.composer.node);
      this.attachObservers();
      this.attachChannel();
      this.applyTheme();
      this.layout();
    }

    /** @param {string} key @param {Record<string, string | number>} [params] */
    t(key, params) {
      return translate(this.locale, key, params);
    }

    /** @returns {Identity} */
    get identity() {
      if (this.config.sso) return { sso: this.config.sso };
      return { guestName: this.channel.api.guestName || undefined };
    }

    // --- DOM -----------------------------------------------------------------------------------

    buildDom() {
      // The overlay sits next to the image (not around it) so the site's layout and CSS for the
      // <img> keep working; layout() moves it onto the picture.
      this.root = el("div", { class: "imagechat", "data-imagechat-url-id": this.config.urlId });
      Object.assign(this.root.style, {
        position: "absolute",
        left: "0px",
        top: "0px",
        width: "0px",
        height: "0px",
      });

      this.surface = el("div", {
        class: "imagechat-surface",
        role: "group",
        tabindex: this.config.readonly ? null : "0",
        "aria-label": this.t("surfaceLabel"),
      });
      this.surfaceHint = el("span", {
        class: "imagechat-visually-hidden",
        text: this.t("surfaceKeyboardHint"),
      });
      this.surface.append(this.surfaceHint);

      this.banner = el("div", { class: "imagechat-offline", role: "status", hidden: true });
      this.notice = el("div", { class: "imagechat-notice", role: "alert", hidden: true });
      this.presence = el("div", {
        class: "imagechat-presence",
        "aria-hidden": "true",
        hidden: true,
      });
      this.live = el("div", {
        class: "imagechat-live imagechat-visually-hidden",
        "aria-live": "polite",
      });
      this.root.append(this.surface, this.banner, this.notice, this.presence, this.live);
      this.insertionPoint().insertAdjacentElement("afterend", this.root);
    }

    /** After <picture> wrappers and outside links, so a click never follows the link. */
    insertionPoint() {
      /** @type {Element} */
      let node = this.img.parentElement?.tagName === "PICTURE" ? this.img.parentElement : this.img;
      const link = node.parentElement && node.parentElement.closest("a");
      if (link) node = link;
      return node;
    }

    attachObservers() {
      const onLayout = () => this.layout();
      this.img.addEventListener("load", onLayout);
      window.addEventListener("resize", onLayout);
      this.cleanups.push(() => {
        this.img.removeEventListener("load", onLayout);
        window.removeEventListener("resize", onLayout);
      });
      if (typeof ResizeObserver === "function") {
        // The image itself, and the document (content above the image may move it).
        const resizeObserver = new ResizeObserver(onLayout);
        resizeObserver.observe(this.img);
        resizeObserver.observe(document.documentElement);
        this.cleanups.push(() => resizeObserver.disconnect());
      }
      const onScroll = () => this.positionFloating();
      document.addEventListener("scroll", onScroll, { capture: true, passive: true });
      this.cleanups.push(() => document.removeEventListener("scroll", onScroll, { capture: true }));

      // A `dark` class on <body> switches the theme live.
      const bodyObserver = new MutationObserver(() => this.applyTheme());
      bodyObserver.observe(document.body, { attributes: true, attributeFilter: ["class"] });
      this.cleanups.push(() => bodyObserver.disconnect());

      this.cleanups.push(
        network.listen((type) => {
          this.renderConnectionState();
          if (type === "online") this.thread.onOnline();
        }),
      );

      this.surface.addEventListener("click", (event) => this.onSurfaceClick(event));
      this.surface.addEventListener("keydown", (event) => this.onSurfaceKey(event));
      this.root.addEventListener("keydown", (event) => this.onEscape(event));
      // Escape also works when focus fell back to <body> (e.g. the button it was on was
      // removed), but never steals it from other parts of the page.
      const onDocumentKey = (/** @type {KeyboardEvent} */ event) => {
        const active = document.activeElement;
        if (!event.defaultPrevented && (!active || active === document.body)) this.onEscape(event);
      };
      document.addEventListener("keydown", onDocumentKey);
      this.cleanups.push(() => document.removeEventListener("keydown", onDocumentKey));
    }

    attachChannel() {
      this.channel = Channel.acquire(this.config.server, this.config.tenantId, this.config.urlId);
      if (!this.channel.readIdentity || this.config.sso) this.channel.readIdentity = this.identity;
      const detach = [
        this.channel.events.listen((type, detail) => this.onChannelEvent(type, detail)),
        this.channel.connection.events.listen(() => this.renderConnectionState()),
        this.channel.api.changes.listen(() => this.thread.render()),
      ];
      this.detachChannel = () => detach.forEach((fn) => fn());
      this.renderMarkers();
      this.renderConnectionState();
      this.renderPresence();
    }

    releaseChannel() {
      this.detachChannel();
      this.channel.release();
    }

    applyTheme() {
      const dark = this.config.hasDarkBackground || document.body.classList.contains("dark");
      for (const node of [this.root, this.thread.node, this.composer.node]) {
        node.classList.toggle("imagechat--dark", dark);
      }
    }

    /** Puts the overlay exactly on the drawn picture and sizes the markers. */
    layout() {
      if (this.destroyed) return;
      const box = renderedImageBox(this.img);
      this.root.style.width = `${box.width}px`;
      this.root.style.height = `${box.height}px`;
      this.root.style.visibility = box.width > 0 && box.height > 0 ? "" : "hidden";
      placeAtViewport(this.root, box.left, box.top);
      const side = (this.config.chatSquarePercentage / 100) * box.width;
      this.root.style.setProperty("--imagechat-marker-size", `${side}px`);
      const { clip } = box;
      this.surface.style.clipPath =
        clip.top || clip.right || clip.bottom || clip.left
          ? `inset(${clip.top}px ${clip.right}px ${clip.bottom}px ${clip.left}px)`
          : "";
      this.positionFloating();
    }

    positionFloating() {
      this.thread.position();
      this.composer.position();
    }

    // --- channel events ------------------------------------------------------------------------

    /** @param {string} type @param {any} detail */
    onChannelEvent(type, detail) {
      switch (type) {
        case "chats":
          this.renderMarkers();
          this.thread.render();
          break;
        case "thread":
          if (detail === this.thread.chatId) this.thread.render();
          break;
        case "replaced":
          this.onReplaced(detail.tempId, detail.chat);
          break;
        case "deleted":
          if (detail.chatId === this.thread.chatId) {
            this.thread.close(false);
            if (detail.byOthers) this.showNotice(this.t("chatDeleted"));
          }
          break;
        case "announce":
          this.announce(
            this.t(detail.key, {
              name: detail.name || this.t("unknownUser"),
              body: detail.body || "",
            }),
          );
          break;
        case "presence":
          this.renderPresence();
          break;
        case "error":
          this.showNotice(
            detail && detail.message
              ? String(detail.message)
              : this.t("genericError", { status: detail?.code ?? "" }),
          );
          break;
        case "status":
          this.renderConnectionState();
          break;
        default:
          break;
      }
    }

    /**
     * Keeps the same marker button (and so its focus) when a temporary id becomes the real one.
     * @param {string} tempId
     * @param {Chat} chat
     */
    onReplaced(tempId, chat) {
      const button = this.markers.get(tempId);
      if (button && !this.markers.has(chat.id)) {
        this.markers.delete(tempId);
        this.markers.set(chat.id, button);
        button.dataset.chatId = chat.id;
      }
      this.thread.onReplaced(tempId, chat);
      this.renderMarkers();
    }

    // --- markers -------------------------------------------------------------------------------

    renderMarkers() {
      const chats = this.channel.chats;
      for (const [id, button] of this.markers) {
        if (chats.has(id)) continue;
        if (document.activeElement === button) this.surface.focus();
        button.remove();
        this.markers.delete(id);
      }
      for (const chat of chats.values()) {
        let button = this.markers.get(chat.id);
        if (!button) {
          button = /** @type {HTMLButtonElement} */ (
            el("button", { type: "button", class: "imagechat-marker" })
          );
          button.append(el("span", { class: "imagechat-marker-count", "aria-hidden": "true" }));
          this.markers.set(chat.id, button);
          this.surface.append(button);
        }
        this.updateMarker(button, chat);
      }
      this.reportCommentCount();
    }

    /** @param {HTMLButtonElement} button @param {Chat} chat */
    updateMarker(button, chat) {
      const open = chat.id === this.thread.chatId;
      button.dataset.chatId = chat.id;
      button.style.left = `${chat.x}%`;
      button.style.top = `${chat.y}%`;
      button.classList.toggle("imagechat-marker--resolved", Boolean(chat.resolved));
      button.classList.toggle("imagechat-marker--pending", Boolean(chat.pending));
      button.classList.toggle("imagechat-marker--open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      const count = Number(chat.commentCount) || 0;
      let label = this.t("markerLabel", {
        name: chat.author?.name || this.t("unknownUser"),
        count,
      });
      if (chat.resolved) label += `, ${this.t("markerResolved")}`;
      if (chat.pending) label += `, ${this.t("markerPending")}`;
      button.setAttribute("aria-label", label);
      const countNode = button.firstElementChild;
      if (countNode) countNode.textContent = String(count);
    }

    reportCommentCount() {
      const callback = this.config.onCommentCountUpdated;
      if (typeof callback !== "function" || !this.channel.loaded) return;
      const count = this.channel.commentCount;
      if (count === this.lastReportedCount) return;
      this.lastReportedCount = count;
      try {
        callback(count);
      } catch (err) {
        console.error("imagechat: onCommentCountUpdated failed", err);
      }
    }

    // --- pointer and keyboard ------------------------------------------------------------------

    /** @param {MouseEvent} event */
    onSurfaceClick(event) {
      const target = event.target instanceof Element ? event.target : null;
      const marker = /** @type {HTMLElement | null} */ (
        target && target.closest(".imagechat-marker")
      );
      if (marker) {
        const chatId = marker.dataset.chatId || "";
        if (this.thread.chatId === chatId) this.thread.close(true);
        else this.thread.open(chatId, marker);
        return;
      }
      if (target !== this.surface) return;
      // A click on the picture closes what is open first; the next one starts a conversation.
      if (this.thread.isOpen) {
        this.thread.close(false);
        return;
      }
      if (this.config.readonly) return;
      const rect = this.surface.getBoundingClientRect();
      if (!rect.width || !rect.height) return;
      const x = ((event.clientX - rect.left) / rect.width) * 100;
      const y = ((event.clientY - rect.top) / rect.height) * 100;
      this.composer.open(clampPercent(x), clampPercent(y));
    }

    /** @param {KeyboardEvent} event */
    onSurfaceKey(event) {
      if (event.target !== this.surface || this.config.readonly) return;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.composer.open(50, 50);
      }
    }

    /** @param {KeyboardEvent} event */
    onEscape(event) {
      if (event.key !== "Escape") return;
      if (this.composer.isOpen) {
        event.preventDefault();
        this.composer.close(true);
      } else if (this.thread.isOpen) {
        event.preventDefault();
        this.thread.close(true);
      }
    }

    // --- shared form helpers -------------------------------------------------------------------

    /** Whether a write would first have to ask the visitor's name. */
    needsName() {
      return this.channel.api.needsGuestName(this.identity);
    }

    /** The inline name prompt for guests, shown in the first form they use. */
    nameField() {
      const id = `imagechat-name-${uuid()}`;
      return el("div", { class: "imagechat-name" }, [
        el("label", { for: id, text: this.t("nameLabel") }),
        el("input", {
          id,
          name: "name",
          type: "text",
          maxlength: "100",
          autocomplete: "name",
          placeholder: this.t("namePlaceholder"),
          value: this.channel.api.guestName || "",
        }),
      ]);
    }

    /**
     * Reads and checks a form's name field (when shown); remembers the name for this tenant.
     * @param {HTMLElement} form
     * @returns {string | null} an error message, or null when fine
     */
    takeGuestName(form) {
      const input = /** @type {HTMLInputElement | null} */ (form.querySelector("input[name=name]"));
      if (!input) return null;
      const name = input.value.trim();
      if (!name) {
        input.focus();
        return this.t("nameRequired");
      }
      this.channel.api.rememberGuestName(name);
      return null;
    }

    /** @param {string} raw @returns {string | null} an error message */
    checkBody(raw) {
      const body = raw.trim();
      if (!body) return this.t("emptyComment");
      if (body.length > MAX_COMMENT_LENGTH) return this.t("tooLong", { max: MAX_COMMENT_LENGTH });
      return null;
    }

    /** @param {unknown} err */
    errorText(err) {
      if (err instanceof ApiError) {
        if (err.code === "network") return this.t("networkError");
        if (err.code === "timeout") return this.t("timeoutError");
        if (err.code === "name_required") return this.t("nameRequired");
        if (err.message) return err.message;
        return this.t("genericError", { status: err.status || err.code });
      }
      return this.t("genericError", { status: String(err) });
    }

    // --- banners and announcements -------------------------------------------------------------

    renderConnectionState() {
      if (this.destroyed) return;
      const state = this.channel.connection.state;
      // A machine-readable summary for site scripts and tests.
      let summary = "loading";
      if (browserOffline()) summary = "offline";
      else if (this.channel.live) summary = "live";
      else if (state === "closed") summary = "closed";
      else if (this.channel.loaded) summary = "connecting";
      this.root.dataset.state = summary;

      let text = "";
      if (browserOffline()) {
        text = this.t("offline");
      } else if (state === "closed") {
        text = this.t("liveUnavailable", { message: this.channel.connection.fatalReason });
      } else if (state === "waiting" || state === "offline" || state === "connecting") {
        // Only after a short grace period, so a quick reconnect does not flash a banner.
        if (!this.reconnectBannerTimer && this.banner.hidden) {
          this.reconnectBannerTimer = window.setTimeout(() => {
            this.reconnectBannerTimer = 0;
            const now = this.channel.connection.state;
            if (!this.destroyed && now !== "open" && now !== "idle") {
              this.banner.textContent = this.t("reconnecting");
              this.banner.hidden = false;
            }
          }, 1500);
        }
        return;
      }
      if (this.reconnectBannerTimer) {
        clearTimeout(this.reconnectBannerTimer);
        this.reconnectBannerTimer = 0;
      }
      this.banner.textContent = text;
      this.banner.hidden = !text;
      this.root.classList.toggle("imagechat--offline", Boolean(text));
    }

    renderPresence() {
      const viewers = this.channel.viewers;
      this.presence.hidden = !(viewers > 1);
      this.presence.textContent = viewers > 1 ? this.t("viewers", { count: viewers }) : "";
    }

    /** @param {string} text */
    announce(text) {
      // Clearing first makes screen readers announce a repeated identical message too.
      this.live.textContent = "";
      window.setTimeout(() => {
        if (!this.destroyed) this.live.textContent = text;
      }, 50);
    }

    /** @param {string} text */
    showNotice(text) {
      const dismiss = el("button", {
        type: "button",
        class: "imagechat-link imagechat-dismiss",
        text: this.t("dismiss"),
      });
      dismiss.addEventListener("click", () => {
        this.notice.hidden = true;
      });
      this.notice.replaceChildren(el("span", { text }), dismiss);
      this.notice.hidden = false;
      clearTimeout(this.noticeTimer);
      this.noticeTimer = window.setTimeout(() => {
        this.notice.hidden = true;
      }, 8000);
    }

    // --- public --------------------------------------------------------------------------------

    /** @param {Partial<WidgetConfig>} partial */
    update(partial) {
      if (this.destroyed) return;
      this.rawConfig = { ...this.rawConfig, ...partial };
      const before = this.config;
      this.config = normalizeConfig(this.rawConfig, this.img);
      this.locale = resolveLocale(this.config.locale);
      const channelChanged =
        before.server !== this.config.server ||
        before.tenantId !== this.config.tenantId ||
        before.urlId !== this.config.urlId;
      if (channelChanged) {
        this.thread.close(false);
        this.composer.close(false);
        for (const button of this.markers.values()) button.remove();
        this.markers.clear();
        this.releaseChannel();
        this.lastReportedCount = -1;
        this.root.dataset.imagechatUrlId = this.config.urlId;
        this.attachChannel();
      }
      if (this.config.sso) this.channel.readIdentity = this.identity;
      this.surface.setAttribute("aria-label", this.t("surfaceLabel"));
      this.surfaceHint.textContent = this.t("surfaceKeyboardHint");
      if (this.config.readonly) {
        this.surface.removeAttribute("tabindex");
        this.composer.close(false);
      } else {
        this.surface.setAttribute("tabindex", "0");
      }
      this.applyTheme();
      this.layout();
      this.renderMarkers();
      this.renderPresence();
      this.renderConnectionState();
      this.thread.render();
    }

    destroy() {
      if (this.destroyed) return;
      this.thread.close(false);
      this.composer.close(false);
      this.destroyed = true;
      for (const cleanup of this.cleanups) cleanup();
      clearTimeout(this.noticeTimer);
      clearTimeout(this.reconnectBannerTimer);
      this.releaseChannel();
      this.root.remove();
      this.thread.node.remove();
      this.composer.node.remove();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Public API
  // ---------------------------------------------------------------------------------------------

  /**
   * Attaches an Image Chat to an image.
   * @param {Element | string} target an <img>, an element containing one, or a selector
   * @param {Partial<WidgetConfig>} config
   * @returns {{destroy(): void, update(partial: Partial<WidgetConfig>): void, readonly urlId: string}}
   */
  function ImageChat(target, config) {
    const widget = new Widget(target, config);
    return {
      destroy: () => widget.destroy(),
      update: (partial) => widget.update(partial),
      get urlId() {
        return widget.config.urlId;
      },
    };
  }

  Object.defineProperties(ImageChat, {
    __imagechat: { value: true },
    version: { value: "1", enumerable: true },
    locales: { value: Object.freeze(Object.keys(STRINGS)), enumerable: true },
    /** Lets the module wrapper tell where the stylesheet is (import.meta.url). */
    setAssetBase: {
      value: (/** @type {string} */ base) => {
        moduleAssetBase = base;
      },
    },
  });

  globalThis.ImageChat = ImageChat;
})();
