/** The form that starts a new conversation at a spot, with the ghost marker showing where. */
import { el, setChildren, showError, submitOnCtrlEnter, usesCommandKey } from "../dom.js";
import { placeFloating, isNarrowViewport } from "../layout.js";
import { browserOffline } from "../network.js";
import { MAX_COMMENT_LENGTH } from "../limits.js";
import { imageCrop } from "./crop.js";

/** @typedef {import("../widget.js").Widget} Widget */

export class ComposerView {
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
    /** Dashed marker on the picture showing where the new one goes. */
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

  /** Shows the ghost alone (keyboard placement before the form opens). */
  /** @param {number} x @param {number} y */
  showGhost(x, y) {
    this.ghost.style.left = `${x}%`;
    this.ghost.style.top = `${y}%`;
    this.ghost.hidden = false;
  }

  hideGhost() {
    this.ghost.hidden = true;
  }

  /** @param {number} x @param {number} y */
  open(x, y) {
    this.widget.thread.close(false);
    const previous = /** @type {HTMLTextAreaElement | null} */ (
      this.node.querySelector("textarea")
    );
    this.at = { x, y };
    this.render(previous ? previous.value : "", "");
    this.showGhost(x, y);
    this.node.hidden = false;
    this.position();
    const first =
      this.node.querySelector("input[name=name]") || this.node.querySelector("textarea");
    if (first) /** @type {HTMLElement} */ (first).focus();
  }

  /** @param {string} text @param {string} error */
  render(text, error) {
    const widget = this.widget;
    const hintId = `imagechat-shortcut-${widget.uid}`;
    const area = /** @type {HTMLTextAreaElement} */ (
      el("textarea", {
        name: "comment",
        rows: "3",
        maxlength: String(MAX_COMMENT_LENGTH),
        placeholder: widget.t("composerPlaceholder"),
        "aria-label": widget.t("composerLabel"),
        "aria-describedby": hintId,
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
    const at = this.at;
    setChildren(this.node, [
      at && isNarrowViewport() ? imageCrop(widget.img, at.x, at.y, widget.t("imageCrop")) : null,
      el("div", { class: "imagechat-composer-title", text: widget.t("composerLabel") }),
      widget.needsName() ? widget.nameField() : null,
      area,
      el("div", { class: "imagechat-error", role: "alert", text: error, hidden: !error }),
      el("div", { class: "imagechat-actions" }, [
        el("span", {
          id: hintId,
          class: "imagechat-shortcut",
          text: widget.t("sendShortcut", { key: usesCommandKey() ? "⌘" : "Ctrl" }),
        }),
        cancel,
        el("button", {
          type: "submit",
          class: "imagechat-button imagechat-button--primary imagechat-submit",
          text: widget.t("post"),
        }),
      ]),
    ]);
    this.node.setAttribute("aria-label", widget.t("composerLabel"));
    if (widget.isReadOnly()) this.setLocked(true);
  }

  /**
   * Follows the widget's read-only state while open: with nothing typed it closes; with text it
   * stays and refuses to send, so nothing typed is lost and it posts again once writes reopen.
   */
  followReadOnly() {
    if (!this.isOpen) return;
    const locked = this.widget.isReadOnly();
    const area = this.node.querySelector("textarea");
    if (locked && !(area && area.value.trim())) {
      this.close(false);
      return;
    }
    this.setLocked(locked);
  }

  /** @param {boolean} locked whether sending is refused (the text stays, to copy) */
  setLocked(locked) {
    for (const field of this.node.querySelectorAll("textarea, input")) {
      /** @type {HTMLTextAreaElement | HTMLInputElement} */ (field).readOnly = locked;
    }
    const submit = /** @type {HTMLButtonElement | null} */ (
      this.node.querySelector(".imagechat-submit")
    );
    if (submit) submit.disabled = locked;
    const box = /** @type {HTMLElement | null} */ (this.node.querySelector(".imagechat-error"));
    const note = this.widget.t("readOnlyNotice");
    if (locked) this.showError(note);
    else if (box && box.textContent === note) box.hidden = true;
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
    if (refocus && !this.widget.isReadOnly())
      this.widget.surface.focus({ preventScroll: true });
  }

  submit() {
    const widget = this.widget;
    if (!this.isOpen || !this.at) return;
    const area = /** @type {HTMLTextAreaElement} */ (this.node.querySelector("textarea"));
    const body = area.value;
    if (widget.isReadOnly()) {
      this.showError(widget.t("readOnlyNotice"));
      return;
    }
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
    const channel = widget.bound;
    const created = channel.createChat({
      x,
      y,
      body: body.trim(),
      identity: widget.identity,
      imageSrc,
    });
    // The new marker exists at once (under a temporary id, later renamed in place): focus it.
    widget.focusNewestPending();
    created.catch((err) => {
      if (widget.destroyed || widget.channel !== channel) return;
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
