/**
 * The markers layer of one image: one button per chat, merged into count badges where they
 * overlap, resolved ones hidden on request, and moves by drag or arrow keys for those allowed.
 */
import { clusterMarkers } from "../clusters.js";
import { el } from "../dom.js";
import { clampPercent } from "../util.js";
import { createMarker, updateMarker } from "./marker.js";

/** @typedef {import("../types.js").Chat} Chat */
/** @typedef {import("../widget.js").Widget} Widget */

/** Pixels a pointer must travel before a press on a marker becomes a drag. */
const DRAG_THRESHOLD_PX = 4;
/** A keyboard move is sent once the arrow keys rest this long. */
const KEY_MOVE_SETTLE_MS = 400;

export class MarkerLayer {
  /** @param {Widget} widget */
  constructor(widget) {
    this.widget = widget;
    /** @type {Map<string, HTMLButtonElement>} marker buttons by chat id */
    this.buttons = new Map();
    /** @type {HTMLButtonElement[]} */
    this.clusters = [];
    /** @type {{chatId: string, x: number, y: number, timer: ReturnType<typeof setTimeout>, from: {x: number, y: number}} | null} */
    this.keyMove = null;
    /** @type {{chatId: string} | null} the marker being dragged */
    this.dragging = null;
    /** Set when a drag just ended, so the click that follows does not open the thread. */
    this.suppressClick = false;
    this.clusterList = el("div", {
      class: "imagechat-cluster-list",
      role: "menu",
      hidden: true,
    });
    this.clusterList.addEventListener("keydown", (event) => this.onListKey(event));
    this.toggle = /** @type {HTMLButtonElement} */ (
      el("button", {
        type: "button",
        class: "imagechat-toggle-resolved",
        "aria-pressed": "false",
        hidden: true,
      })
    );
    this.toggle.addEventListener("click", () => {
      widget.hideResolved = !widget.hideResolved;
      this.render();
    });
    widget.surface.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    widget.surface.addEventListener("keydown", (event) => this.onKey(event));
    widget.surface.addEventListener(
      "click",
      (event) => {
        if (this.suppressClick) {
          this.suppressClick = false;
          event.stopPropagation();
          event.preventDefault();
        }
      },
      { capture: true },
    );
  }

  /** @param {string} chatId */
  get(chatId) {
    return this.buttons.get(chatId) || null;
  }

  /** The element a thread of this chat is anchored to: its marker, or its cluster badge. */
  /** @param {string} chatId @returns {HTMLElement | null} */
  anchorOf(chatId) {
    const button = this.buttons.get(chatId);
    if (!button) return null;
    if (!button.hidden) return button;
    return this.clusters.find((c) => (c.dataset.chatIds || "").split(" ").includes(chatId)) || null;
  }

  /** A temporary id became the real one: keep the same button (and so its focus). */
  /** @param {string} tempId @param {string} chatId */
  rename(tempId, chatId) {
    const button = this.buttons.get(tempId);
    if (button && !this.buttons.has(chatId)) {
      this.buttons.delete(tempId);
      this.buttons.set(chatId, button);
      button.dataset.chatId = chatId;
    }
  }

  clear() {
    for (const button of this.buttons.values()) button.remove();
    this.buttons.clear();
    for (const badge of this.clusters) badge.remove();
    this.clusters = [];
    this.closeClusterList();
    this.toggle.hidden = true;
  }

  render() {
    const widget = this.widget;
    const chats = widget.channel ? widget.bound.chats : new Map();
    for (const [id, button] of this.buttons) {
      if (chats.has(id)) continue;
      if (document.activeElement === button) widget.surface.focus({ preventScroll: true });
      button.remove();
      this.buttons.delete(id);
    }
    let resolvedCount = 0;
    /** @type {Chat[]} */
    const shown = [];
    for (const chat of chats.values()) {
      let button = this.buttons.get(chat.id);
      if (!button) {
        button = createMarker();
        this.buttons.set(chat.id, button);
        widget.surface.append(button);
      }
      if (chat.resolved) resolvedCount += 1;
      const open = chat.id === widget.thread.chatId;
      // An open thread's marker, or one being moved, always stays visible and on its own.
      const hidden = widget.hideResolved && chat.resolved && !open;
      button.hidden = hidden;
      updateMarker(button, chat, {
        open,
        movable: widget.canMove(chat),
        label: this.label(chat),
      });
      if (!hidden) shown.push(chat);
    }
    this.toggle.hidden = resolvedCount === 0;
    this.toggle.textContent = widget.t("hideResolved");
    this.toggle.setAttribute("aria-pressed", widget.hideResolved ? "true" : "false");
    this.renderClusters(shown);
    widget.reportCommentCount();
  }

  /** @param {Chat} chat */
  label(chat) {
    const widget = this.widget;
    const count = Number(chat.commentCount) || 0;
    let label = widget.t("markerLabel", {
      name: chat.author?.name || widget.t("unknownUser"),
      count,
    });
    if (chat.resolved) label += `, ${widget.t("markerResolved")}`;
    if (chat.pending) label += `, ${widget.t("markerPending")}`;
    if (widget.canMove(chat)) label += `. ${widget.t("markerMoveHint")}`;
    return label;
  }

  /** @param {Chat[]} shown */
  renderClusters(shown) {
    const widget = this.widget;
    const rect = widget.surface.getBoundingClientRect();
    // As drawn: on touch screens pins are at least 32 px (see imagechat.css).
    const coarse = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;
    const drawn = (widget.config.chatSquarePercentage / 100) * rect.width;
    const size = coarse ? Math.max(drawn, 32) : drawn;
    const active = this.keyMove?.chatId ?? this.dragging?.chatId ?? widget.thread.chatId;
    const candidates = shown
      .filter((chat) => chat.id !== active)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    const groups = clusterMarkers(candidates, rect.width, rect.height, size).filter(
      (g) => g.items.length > 1,
    );
    const hadFocus = this.clusters.find((c) => c === document.activeElement)?.dataset.chatIds;
    for (const badge of this.clusters) badge.remove();
    this.clusters = [];
    for (const group of groups) {
      const ids = group.items.map((chat) => chat.id);
      for (const id of ids) {
        const button = this.buttons.get(id);
        if (button) button.hidden = true;
      }
      const badge = /** @type {HTMLButtonElement} */ (
        el("button", {
          type: "button",
          class: "imagechat-cluster",
          "data-chat-ids": ids.join(" "),
          "aria-haspopup": "menu",
          "aria-label": widget.t("clusterLabel", { count: ids.length }),
          text: String(ids.length),
        })
      );
      badge.style.left = `${group.x}%`;
      badge.style.top = `${group.y}%`;
      widget.surface.append(badge);
      this.clusters.push(badge);
      if (hadFocus && hadFocus === badge.dataset.chatIds) badge.focus({ preventScroll: true });
    }
    if (!this.clusterList.hidden) {
      const still = this.clusters.find((c) => c.dataset.chatIds === this.clusterList.dataset.for);
      if (still) this.openClusterList(still, false);
      else this.closeClusterList();
    }
  }

  /**
   * The list of conversations behind a count badge.
   * @param {HTMLButtonElement} badge
   * @param {boolean} focus
   */
  openClusterList(badge, focus) {
    const widget = this.widget;
    const ids = (badge.dataset.chatIds || "").split(" ").filter(Boolean);
    this.clusterList.dataset.for = badge.dataset.chatIds || "";
    this.clusterList.setAttribute("aria-label", widget.t("clusterLabel", { count: ids.length }));
    /** @type {HTMLElement[]} */
    const items = [];
    for (const id of ids) {
      const chat = widget.bound.chats.get(id);
      if (!chat) continue;
      const item = el("button", {
        type: "button",
        role: "menuitem",
        class: "imagechat-cluster-item",
        "data-chat-id": id,
        text: this.label(chat),
      });
      item.addEventListener("click", () => {
        this.closeClusterList();
        widget.thread.open(id, badge);
      });
      items.push(item);
    }
    this.clusterList.replaceChildren(...items);
    this.clusterList.style.left = badge.style.left;
    this.clusterList.style.top = badge.style.top;
    this.clusterList.hidden = false;
    badge.setAttribute("aria-expanded", "true");
    if (focus && items[0]) items[0].focus({ preventScroll: true });
  }

  /** A menu's keys: arrows move between its items, Escape goes back to the badge. */
  /** @param {KeyboardEvent} event */
  onListKey(event) {
    const items = /** @type {HTMLElement[]} */ (
      Array.from(this.clusterList.querySelectorAll(".imagechat-cluster-item"))
    );
    const index = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    let next = -1;
    if (event.key === "ArrowDown") next = (index + 1) % items.length;
    else if (event.key === "ArrowUp") next = (index - 1 + items.length) % items.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = items.length - 1;
    else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      const badge = this.clusters.find((c) => c.dataset.chatIds === this.clusterList.dataset.for);
      this.closeClusterList();
      if (badge) badge.focus({ preventScroll: true });
      return;
    }
    if (next < 0 || !items[next]) return;
    event.preventDefault();
    items[next].focus({ preventScroll: true });
  }

  closeClusterList() {
    if (this.clusterList.hidden) return false;
    this.clusterList.hidden = true;
    this.clusterList.replaceChildren();
    return true;
  }

  // --- moving ----------------------------------------------------------------------------------

  /** @param {PointerEvent} event */
  onPointerDown(event) {
    const widget = this.widget;
    const target = event.target instanceof Element ? event.target : null;
    const button = /** @type {HTMLButtonElement | null} */ (
      target && target.closest(".imagechat-marker")
    );
    if (!button || event.button !== 0) return;
    const chat = widget.bound.chats.get(button.dataset.chatId || "");
    if (!chat || !widget.canMove(chat)) return;
    const startX = event.clientX;
    const startY = event.clientY;
    const from = { x: chat.x, y: chat.y };
    let moved = false;
    // Capture at once: a quick drag leaves the pin before the first move is seen.
    try {
      button.setPointerCapture(event.pointerId);
    } catch {
      /* the pointer is already gone */
    }
    /** @param {PointerEvent} move */
    const onMove = (move) => {
      if (!moved && Math.hypot(move.clientX - startX, move.clientY - startY) < DRAG_THRESHOLD_PX)
        return;
      if (!moved) {
        moved = true;
        this.dragging = { chatId: chat.id };
        button.classList.add("imagechat-marker--dragging");
      }
      move.preventDefault();
      const spot = widget.percentAt(move.clientX, move.clientY);
      if (spot) widget.bound.store.moveLocally(chat.id, spot.x, spot.y);
    };
    const onUp = (/** @type {PointerEvent} */ up) => {
      button.removeEventListener("pointermove", onMove);
      button.removeEventListener("pointerup", onUp);
      button.removeEventListener("pointercancel", onCancel);
      if (!moved) return;
      this.dragging = null;
      button.classList.remove("imagechat-marker--dragging");
      this.suppressClick = true;
      // The click (if any) comes right after pointerup; forget the flag if it does not.
      setTimeout(() => {
        this.suppressClick = false;
      }, 0);
      const spot = widget.percentAt(up.clientX, up.clientY);
      if (!spot || (spot.x === from.x && spot.y === from.y)) {
        widget.bound.store.moveLocally(chat.id, from.x, from.y);
        return;
      }
      this.commitMove(chat.id, spot.x, spot.y, from);
    };
    const onCancel = () => {
      button.removeEventListener("pointermove", onMove);
      button.removeEventListener("pointerup", onUp);
      button.removeEventListener("pointercancel", onCancel);
      const wasDragging = this.dragging;
      this.dragging = null;
      button.classList.remove("imagechat-marker--dragging");
      if (wasDragging) widget.bound.store.moveLocally(chat.id, from.x, from.y);
    };
    button.addEventListener("pointermove", onMove);
    button.addEventListener("pointerup", onUp);
    button.addEventListener("pointercancel", onCancel);
  }

  /** Arrow keys on a focused marker that may be moved. @param {KeyboardEvent} event */
  onKey(event) {
    const widget = this.widget;
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (target && target.classList.contains("imagechat-cluster")) {
      if (event.key === "Escape" && this.closeClusterList()) event.preventDefault();
      return;
    }
    if (!target || !target.classList.contains("imagechat-marker")) return;
    const step = arrowStep(event);
    if (!step) return;
    const chatId = target.dataset.chatId || "";
    const chat = widget.bound.chats.get(chatId);
    if (!chat || !widget.canMove(chat)) return;
    event.preventDefault();
    const current = this.keyMove && this.keyMove.chatId === chatId ? this.keyMove : null;
    const base = current ? { x: current.x, y: current.y } : { x: chat.x, y: chat.y };
    const x = clampPercent(base.x + step.dx);
    const y = clampPercent(base.y + step.dy);
    if (current) clearTimeout(current.timer);
    const from = current ? current.from : { x: chat.x, y: chat.y };
    widget.bound.store.moveLocally(chatId, x, y);
    this.keyMove = {
      chatId,
      x,
      y,
      from,
      timer: setTimeout(() => {
        this.keyMove = null;
        this.commitMove(chatId, x, y, from);
      }, KEY_MOVE_SETTLE_MS),
    };
  }

  /**
   * Sends a move already shown on screen.
   * @param {string} chatId @param {number} x @param {number} y
   * @param {{x: number, y: number}} from where it was before, to go back to on failure
   */
  commitMove(chatId, x, y, from) {
    const widget = this.widget;
    widget.bound.moveChat(chatId, x, y, from, widget.identity).then(
      () => widget.announce(widget.t("markerMoved", { x: Math.round(x), y: Math.round(y) })),
      (err) => {
        if (!widget.destroyed) {
          widget.showNotice(widget.t("moveFailed", { message: widget.errorText(err) }));
          this.render();
        }
      },
    );
  }
}

/**
 * The move an arrow key asks for, in percent: 1 per press, 5 with Shift.
 * @param {KeyboardEvent} event
 * @returns {{dx: number, dy: number} | null}
 */
export function arrowStep(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  const size = event.shiftKey ? 5 : 1;
  switch (event.key) {
    case "ArrowLeft":
      return { dx: -size, dy: 0 };
    case "ArrowRight":
      return { dx: size, dy: 0 };
    case "ArrowUp":
      return { dx: 0, dy: -size };
    case "ArrowDown":
      return { dx: 0, dy: size };
    default:
      return null;
  }
}
