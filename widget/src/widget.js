/**
 * One image's overlay: the markers layer, the banners and notices, and the wiring between the
 * page, the image's channel and the two floating windows (composer and thread).
 */
import { ApiError, isReadOnlyRefusal } from "./api.js";
import { Channel } from "./channel.js";
import { el, setChildren } from "./dom.js";
import { resolveLocale, translate } from "./i18n/index.js";
import { deriveUrlId, watchSource } from "./image-identity.js";
import { placeAtViewport, renderedImageBox } from "./layout.js";
import { MAX_COMMENT_LENGTH } from "./limits.js";
import { browserOffline, network } from "./network.js";
import { isStaff, ssoNamesStaff } from "./staff.js";
import { ensureStylesheet } from "./stylesheet.js";
import { clampPercent, normalizeServer, uuid } from "./util.js";
import { ComposerView } from "./views/composer.js";
import { arrowStep, MarkerLayer } from "./views/markers.js";
import { ThreadView } from "./views/thread.js";

/** @typedef {import("./types.js").Chat} Chat */
/** @typedef {import("./types.js").Identity} Identity */
/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").WidgetConfig} WidgetConfig */

/** The fragment that opens a thread: `#imagechat=<chatId>`. */
const DEEP_LINK = /(?:^#|&)imagechat=([^&]+)/;
let nextUid = 1;

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
  const dark = input.hasDarkBackground;
  return {
    ...input,
    server,
    tenantId: String(input.tenantId || ""),
    urlId: input.urlId ? String(input.urlId) : deriveUrlId(img) || "",
    urlIdExplicit: Boolean(input.urlId),
    chatSquarePercentage: Number.isFinite(pct) && pct > 0 ? pct : 5,
    hasDarkBackground: dark === undefined || dark === null || dark === "auto" ? "auto" : Boolean(dark),
    readonly: Boolean(input.readonly),
    hideResolved: Boolean(input.hideResolved),
    sso: input.sso || null,
  };
}

export class Widget {
  /**
   * @param {Element | string} target
   * @param {Partial<WidgetConfig>} config
   */
  constructor(target, config) {
    this.img = resolveImage(target);
    if (!config || !config.tenantId)
      throw new TypeError("ImageChat: config.tenantId is required");
    this.uid = nextUid++;
    /** @type {Partial<WidgetConfig>} */
    this.rawConfig = { ...config };
    this.config = normalizeConfig(this.rawConfig, this.img);
    this.locale = resolveLocale(this.config.locale);
    this.hideResolved = this.config.hideResolved;
    this.lastReportedCount = -1;
    this.noticeTimer = 0;
    this.reconnectBannerTimer = 0;
    this.destroyed = false;
    /** @type {Channel | null} null while the image has no identity yet (no src) */
    this.channel = null;
    /** @type {(() => void) | null} */
    this.detachChannel = null;
    /** @type {{x: number, y: number} | null} a new marker being placed with the arrow keys */
    this.placing = null;
    /** The deep-linked chat already opened, so it opens once. */
    this.deepLinkOpened = "";
    /** @type {(() => void)[]} */
    this.cleanups = [];

    ensureStylesheet(this.config);
    const dom = this.buildDom();
    this.root = dom.root;
    this.surface = dom.surface;
    this.surfaceHint = dom.surfaceHint;
    this.banner = dom.banner;
    this.notice = dom.notice;
    this.presence = dom.presence;
    this.delayed = dom.delayed;
    this.readOnlyNote = dom.readOnlyNote;
    this.pills = dom.pills;
    this.live = dom.live;
    /** @type {MediaQueryList | null} */
    this.darkQuery = null;
    this.lastWidth = 0;
    this.lastHeight = 0;
    this.markers = new MarkerLayer(this);
    this.thread = new ThreadView(this);
    this.composer = new ComposerView(this);
    this.pills.prepend(this.markers.toggle);
    this.surface.append(this.markers.clusterList);
    // Floating windows live in <body> so that no overflow:hidden ancestor of the image clips
    // them; they are positioned in document coordinates next to their marker.
    document.body.append(this.thread.node, this.composer.node);
    this.attachObservers();
    this.bindImage();
    this.applyTheme();
    this.layout();
  }

  /** @param {string} key @param {Record<string, string | number>} [params] */
  t(key, params) {
    return translate(this.locale, key, params);
  }

  /** The bound channel, for views that exist only while one is bound. */
  get bound() {
    if (!this.channel) throw new Error("imagechat: no image bound yet");
    return this.channel;
  }

  /** @returns {Identity} */
  get identity() {
    if (this.config.sso) return { sso: this.config.sso };
    return { guestName: this.channel?.api.guestName || undefined };
  }

  // --- DOM -----------------------------------------------------------------------------------

  buildDom() {
    // The overlay sits next to the image (not around it) so the site's layout and CSS for the
    // <img> keep working; layout() moves it onto the picture.
    const root = el("div", { class: "imagechat", "data-imagechat-url-id": this.config.urlId });
    Object.assign(root.style, {
      position: "absolute",
      left: "0px",
      top: "0px",
      width: "0px",
      height: "0px",
    });
    const surface = el("div", {
      class: "imagechat-surface",
      role: "group",
      tabindex: this.isReadOnly() ? null : "0",
      "aria-label": this.t("surfaceLabel"),
    });
    const surfaceHint = el("span", {
      class: "imagechat-visually-hidden",
      text: this.t("surfaceKeyboardHint"),
    });
    surface.append(surfaceHint);
    const banner = el("div", { class: "imagechat-offline", role: "status", hidden: true });
    // Notices, presence and the "delayed" pill share one stack, so none ever covers another.
    const notice = el("div", { class: "imagechat-notice", role: "alert", hidden: true });
    const presence = el("div", { class: "imagechat-presence", "aria-hidden": "true", hidden: true });
    const delayed = el("div", { class: "imagechat-delayed", role: "status", hidden: true });
    const readOnlyNote = el("div", { class: "imagechat-readonly", role: "status", hidden: true });
    const pills = el("div", { class: "imagechat-pills" }, [readOnlyNote, delayed, presence]);
    const stack = el("div", { class: "imagechat-stack" }, [notice, pills]);
    const live = el("div", { class: "imagechat-live imagechat-visually-hidden", "aria-live": "polite" });
    root.append(surface, banner, stack, live);
    this.insertionPoint().insertAdjacentElement("afterend", root);
    return {
      root,
      surface,
      surfaceHint,
      banner,
      notice,
      presence,
      delayed,
      readOnlyNote,
      pills,
      live,
    };
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

    // The image's identity follows its src (unless the page named it with `urlId`).
    this.cleanups.push(watchSource(this.img, () => this.onSourceChanged()));

    // A `dark` class on <body> switches the theme live, and so does the system's scheme.
    const bodyObserver = new MutationObserver(() => this.applyTheme());
    bodyObserver.observe(document.body, { attributes: true, attributeFilter: ["class"] });
    this.cleanups.push(() => bodyObserver.disconnect());
    if (typeof matchMedia === "function") {
      this.darkQuery = matchMedia("(prefers-color-scheme: dark)");
      const onScheme = () => this.applyTheme();
      this.darkQuery.addEventListener("change", onScheme);
      this.cleanups.push(() => this.darkQuery?.removeEventListener("change", onScheme));
    }

    const onHash = () => {
      this.deepLinkOpened = "";
      this.openDeepLink();
    };
    window.addEventListener("hashchange", onHash);
    this.cleanups.push(() => window.removeEventListener("hashchange", onHash));

    this.cleanups.push(
      network.listen((type) => {
        this.renderConnectionState();
        this.renderPresence();
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

  // --- which image ---------------------------------------------------------------------------

  /** Binds to the image's channel, or waits for a src when it has none yet. */
  bindImage() {
    this.root.dataset.imagechatUrlId = this.config.urlId;
    if (this.config.urlId) {
      this.attachChannel();
    } else {
      this.root.dataset.state = "waiting";
      this.renderMarkers();
    }
  }

  onSourceChanged() {
    if (this.destroyed || this.config.urlIdExplicit) return;
    const urlId = deriveUrlId(this.img) || "";
    if (urlId === this.config.urlId) return;
    this.switchChannel(() => {
      this.config = { ...this.config, urlId };
    });
  }

  /** @param {() => void} change what changes between the old channel and the new one */
  switchChannel(change) {
    this.thread.close(false);
    this.composer.close(false);
    this.cancelPlacing();
    this.markers.clear();
    this.releaseChannel();
    this.lastReportedCount = -1;
    change();
    this.bindImage();
    this.layout();
  }

  attachChannel() {
    const channel = Channel.acquire(this.config.server, this.config.tenantId, this.config.urlId);
    this.channel = channel;
    if (!channel.readIdentity || this.config.sso) channel.readIdentity = this.identity;
    const detach = [
      channel.events.listen((type, detail) => this.onChannelEvent(type, detail)),
      channel.connection.events.listen(() => {
        this.renderConnectionState();
        this.renderPresence();
      }),
      // Who writes changed: a moderator's session may write where others may not.
      channel.api.changes.listen(() => this.renderReadOnly()),
    ];
    this.detachChannel = () => detach.forEach((fn) => fn());
    this.renderReadOnly();
    this.renderConnectionState();
    this.renderPresence();
    this.openDeepLink();
  }

  releaseChannel() {
    if (this.detachChannel) this.detachChannel();
    this.detachChannel = null;
    if (this.channel) this.channel.release();
    this.channel = null;
  }

  applyTheme() {
    const setting = this.config.hasDarkBackground;
    const dark =
      setting === true ||
      document.body.classList.contains("dark") ||
      (setting === "auto" && Boolean(this.darkQuery?.matches));
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
    if (this.channel && (box.width !== this.lastWidth || box.height !== this.lastHeight)) {
      // Overlaps depend on the drawn size: a resize may merge or split count badges.
      this.lastWidth = box.width;
      this.lastHeight = box.height;
      this.markers.render();
    }
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
        this.openDeepLink();
        break;
      case "thread":
        if (detail === this.thread.chatId) this.thread.render();
        break;
      case "replaced":
        this.markers.rename(detail.tempId, detail.chat.id);
        this.thread.onReplaced(detail.tempId, detail.chat);
        this.renderMarkers();
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
        this.renderPresence();
        break;
      case "readonly":
        this.renderReadOnly();
        break;
      default:
        break;
    }
  }

  renderMarkers() {
    if (this.destroyed) return;
    this.markers.render();
  }

  reportCommentCount() {
    const callback = this.config.onCommentCountUpdated;
    if (typeof callback !== "function" || !this.channel || !this.channel.loaded) return;
    const count = this.channel.commentCount;
    if (count === this.lastReportedCount) return;
    this.lastReportedCount = count;
    try {
      callback(count);
    } catch (err) {
      console.error("imagechat: onCommentCountUpdated failed", err);
    }
  }

  /**
   * Whether this visitor may not write here: the page asked so (`readonly`), or the server
   * closed writes to all but moderators and admins.
   */
  isReadOnly() {
    return this.config.readonly || this.writesClosedByServer();
  }

  /** The server refuses this visitor's writes here: the image is locked, or the site read-only. */
  writesClosedByServer() {
    const channel = this.channel;
    if (!channel || !channel.readOnly) return false;
    const user = channel.api.user;
    // Without a session yet, a site's SSO payload is what tells moderators and admins apart.
    return !(user ? isStaff(user) : ssoNamesStaff(this.config.sso));
  }

  /**
   * Whether the current user may move, resolve and delete this chat: its author, moderators
   * and admins (the server checks again).
   * @param {Chat} chat
   */
  canMove(chat) {
    const user = this.channel?.api.user;
    if (!user || this.isReadOnly() || chat.pending) return false;
    return user.id === chat.author?.id || isStaff(user);
  }

  /**
   * A viewport point as percentages of the picture, kept on it.
   * @param {number} clientX
   * @param {number} clientY
   * @returns {{x: number, y: number} | null}
   */
  percentAt(clientX, clientY) {
    const rect = this.surface.getBoundingClientRect();
    if (!rect.width || !rect.height) return null;
    return {
      x: clampPercent(((clientX - rect.left) / rect.width) * 100),
      y: clampPercent(((clientY - rect.top) / rect.height) * 100),
    };
  }

  /** Focus lands on the marker just posted (it is the newest pending one). */
  focusNewestPending() {
    if (!this.channel) return;
    let newest = null;
    for (const chat of this.channel.chats.values()) if (chat.pending) newest = chat;
    const button = newest ? this.markers.get(newest.id) : null;
    if (button) button.focus({ preventScroll: true });
  }

  // --- deep links ----------------------------------------------------------------------------

  /** @param {string} chatId @returns {string} this page's address, opening that thread */
  deepLink(chatId) {
    const base = location.href.split("#")[0];
    return `${base}#imagechat=${encodeURIComponent(chatId)}`;
  }

  /** Opens the thread named by `#imagechat=<chatId>` once it is among this image's chats. */
  openDeepLink() {
    if (!this.channel || !this.channel.loaded) return;
    const match = DEEP_LINK.exec(location.hash);
    if (!match) return;
    let chatId = "";
    try {
      chatId = decodeURIComponent(match[1]);
    } catch {
      return;
    }
    if (chatId === this.deepLinkOpened || !this.channel.chats.has(chatId)) return;
    this.deepLinkOpened = chatId;
    const chat = this.channel.chats.get(chatId);
    if (chat && chat.resolved && this.hideResolved) this.hideResolved = false;
    this.renderMarkers();
    this.root.scrollIntoView({ block: "center" });
    this.thread.open(chatId, this.markers.get(chatId));
  }

  // --- pointer and keyboard ------------------------------------------------------------------

  /** @param {MouseEvent} event */
  onSurfaceClick(event) {
    const target = event.target instanceof Element ? event.target : null;
    const cluster = /** @type {HTMLButtonElement | null} */ (
      target && target.closest(".imagechat-cluster")
    );
    if (cluster) {
      if (this.markers.clusterList.hidden) this.markers.openClusterList(cluster, event.detail === 0);
      else this.markers.closeClusterList();
      return;
    }
    if (target && target.closest(".imagechat-cluster-list")) return;
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
    if (this.markers.closeClusterList()) return;
    if (this.thread.isOpen) {
      this.thread.close(false);
      return;
    }
    if (this.isReadOnly() || !this.channel) return;
    this.cancelPlacing();
    const spot = this.percentAt(event.clientX, event.clientY);
    if (spot) this.composer.open(spot.x, spot.y);
  }

  /**
   * Keyboard placement: Enter on the picture shows a new marker in the middle, the arrow keys
   * move it, Enter opens the form there, Escape gives up.
   * @param {KeyboardEvent} event
   */
  onSurfaceKey(event) {
    if (event.target !== this.surface || this.isReadOnly() || !this.channel) return;
    if (this.placing) {
      const step = arrowStep(event);
      if (step) {
        event.preventDefault();
        this.placing = {
          x: clampPercent(this.placing.x + step.dx),
          y: clampPercent(this.placing.y + step.dy),
        };
        this.composer.showGhost(this.placing.x, this.placing.y);
        return;
      }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        const { x, y } = this.placing;
        this.cancelPlacing();
        this.composer.open(x, y);
      }
      return;
    }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.placing = { x: 50, y: 50 };
      this.composer.showGhost(50, 50);
      this.root.classList.add("imagechat--placing");
      this.announce(this.t("placing", { x: 50, y: 50 }));
    }
  }

  cancelPlacing() {
    if (!this.placing) return false;
    this.placing = null;
    this.root.classList.remove("imagechat--placing");
    if (!this.composer.isOpen) this.composer.hideGhost();
    return true;
  }

  /** @param {KeyboardEvent} event */
  onEscape(event) {
    if (event.key !== "Escape") return;
    if (this.cancelPlacing()) {
      event.preventDefault();
    } else if (this.markers.closeClusterList()) {
      event.preventDefault();
    } else if (this.composer.isOpen) {
      event.preventDefault();
      this.composer.close(true);
    } else if (this.thread.isOpen) {
      event.preventDefault();
      this.thread.close(true);
    }
  }

  // --- shared form helpers -------------------------------------------------------------------

  /** The REST access of the bound channel (forms exist only while one is bound). */
  api() {
    return this.bound.api;
  }

  /** Whether a write would first have to ask the visitor's name. */
  needsName() {
    return this.api().needsGuestName(this.identity);
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
        value: this.api().guestName || "",
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
    this.api().rememberGuestName(name);
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
    if (isReadOnlyRefusal(err)) return this.t("readOnlyNotice");
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
    const channel = this.channel;
    if (!channel) {
      this.root.dataset.state = "waiting";
      this.delayed.hidden = true;
      return;
    }
    const connection = channel.connection;
    const state = connection.state;
    // A machine-readable summary for site scripts and tests.
    let summary = "loading";
    if (browserOffline()) summary = "offline";
    else if (channel.live) summary = "live";
    else if (state === "closed") summary = "closed";
    else if (channel.loaded) summary = "connecting";
    this.root.dataset.state = summary;
    this.root.dataset.transport = channel.polling ? "polling" : "socket";
    // Polling works, only slower: a quiet pill, not a warning.
    const delayed = channel.polling && channel.live && !browserOffline();
    this.delayed.hidden = !delayed;
    this.delayed.textContent = delayed ? this.t("liveDelayed") : "";

    let text = "";
    if (browserOffline()) {
      text = this.t("offline");
    } else if (state === "closed") {
      text = this.t("liveUnavailable", { message: connection.fatalReason });
    } else if (
      !delayed &&
      (state === "waiting" || state === "offline" || state === "connecting")
    ) {
      // Only after a short grace period, so a quick reconnect does not flash a banner.
      if (!this.reconnectBannerTimer && this.banner.hidden) {
        this.reconnectBannerTimer = window.setTimeout(() => {
          this.reconnectBannerTimer = 0;
          const now = this.channel?.connection.state;
          if (!this.destroyed && now && now !== "open" && now !== "idle" && !this.channel?.polling) {
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

  /**
   * Follows whether this visitor may write, live: while not, new markers cannot be placed, an
   * open composer closes (or, holding typed text, keeps it and refuses to send), writing controls
   * leave the thread, and a pill says so when the server closed writes. All of it comes back when
   * writes open again.
   */
  renderReadOnly() {
    if (this.destroyed) return;
    const readOnly = this.isReadOnly();
    if (readOnly) {
      this.surface.removeAttribute("tabindex");
      this.cancelPlacing();
    } else {
      this.surface.setAttribute("tabindex", "0");
    }
    this.root.classList.toggle("imagechat--readonly", readOnly);
    this.composer.followReadOnly();
    const closed = this.writesClosedByServer();
    this.readOnlyNote.hidden = !closed;
    this.readOnlyNote.textContent = closed ? this.t("readOnlyNotice") : "";
    this.renderMarkers();
    this.thread.render();
  }

  /** "N viewing": from the server's presence, only while the socket is live. */
  renderPresence() {
    const channel = this.channel;
    const viewers = channel ? channel.viewers : 0;
    const show =
      Boolean(channel && channel.live && !channel.polling) && !browserOffline() && viewers > 1;
    this.presence.hidden = !show;
    this.presence.textContent = show ? this.t("viewers", { count: viewers }) : "";
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
    setChildren(this.notice, [el("span", { text }), dismiss]);
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
    const next = normalizeConfig(this.rawConfig, this.img);
    this.locale = resolveLocale(next.locale);
    if ("hideResolved" in partial) this.hideResolved = next.hideResolved;
    const channelChanged =
      before.server !== next.server ||
      before.tenantId !== next.tenantId ||
      before.urlId !== next.urlId;
    if (channelChanged) {
      this.switchChannel(() => {
        this.config = next;
      });
    } else {
      this.config = next;
    }
    if (this.config.sso && this.channel) this.channel.readIdentity = this.identity;
    this.surface.setAttribute("aria-label", this.t("surfaceLabel"));
    this.surfaceHint.textContent = this.t("surfaceKeyboardHint");
    this.applyTheme();
    this.layout();
    this.renderReadOnly();
    this.renderPresence();
    this.renderConnectionState();
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
