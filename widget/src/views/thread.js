/**
 * The conversation window: its comments (with relative times), a reply form and the actions
 * its reader may use (resolve, delete, copy a link to it). On a phone it fills the screen and
 * shows the spot on the image at the top.
 */
import { confirmButton, el, errorBox, isSafeImageUrl, setChildren, showError, submitOnCtrlEnter } from "../dom.js";
import { relativeTime } from "../i18n/index.js";
import { isNarrowViewport, placeFloating } from "../layout.js";
import { MAX_COMMENT_LENGTH } from "../limits.js";
import { browserOffline } from "../network.js";
import { initials, personColour } from "../people.js";
import { shortHash } from "../util.js";
import { imageCrop } from "./crop.js";

/** @typedef {import("../types.js").Chat} Chat */
/** @typedef {import("../types.js").Comment} Comment */
/** @typedef {import("../widget.js").Widget} Widget */

/** Relative times ("2 min ago") are refreshed this often while a thread is open. */
const CLOCK_MS = 30000;

/** The floating dialog showing one conversation: its comments, a reply form and actions. */
export class ThreadView {
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
    /** A reply the server refused after its form went away: shown again in the next form. */
    this.returnedReply = "";
    this.loading = false;
    /** @type {ReturnType<typeof setInterval> | 0} */
    this.clock = 0;
    this.copied = false;
    this.node.addEventListener("keydown", (event) => widget.onEscape(event));
  }

  get isOpen() {
    return !this.node.hidden;
  }

  /** @param {string} chatId @param {HTMLElement | null} marker what to refocus on close */
  open(chatId, marker) {
    const widget = this.widget;
    widget.composer.close(false);
    const chat = widget.bound.chats.get(chatId);
    if (!chat) return;
    this.chatId = chatId;
    this.editingCommentId = null;
    this.returnedReply = "";
    this.returnFocusTo = marker;
    this.error = "";
    this.loading = false;
    this.render();
    this.node.hidden = false;
    this.position();
    widget.renderMarkers();
    this.node.focus({ preventScroll: true });
    if (!chat.pending) this.refresh();
    if (!this.clock) this.clock = setInterval(() => this.render(), CLOCK_MS);
  }

  /** Loads the comments; cached ones stay on screen meanwhile (and offline). */
  refresh() {
    const chatId = this.chatId;
    if (!chatId) return;
    const widget = this.widget;
    const cached = widget.bound.comments.get(chatId);
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
    widget.bound.loadThread(chatId).then(
      () => {
        if (this.chatId !== chatId) return;
        this.loading = false;
        this.render();
      },
      (err) => {
        if (this.chatId !== chatId) return;
        this.loading = false;
        if (!widget.bound.comments.get(chatId)) {
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
    const chatId = this.chatId;
    this.node.hidden = true;
    this.node.replaceChildren();
    this.chatId = null;
    this.editingCommentId = null;
    if (this.clock) clearInterval(this.clock);
    this.clock = 0;
    this.widget.renderMarkers();
    // A count badge is redrawn when its members change: go back to whatever now stands for it.
    const target =
      this.returnFocusTo && this.returnFocusTo.isConnected
        ? this.returnFocusTo
        : chatId
          ? this.widget.markers.anchorOf(chatId)
          : null;
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
    return this.widget.canMove(chat);
  }

  /**
   * Re-renders the whole window. Live updates call this often, so it keeps what the user is
   * typing (reply, name, edit draft), the scroll position and the focus.
   */
  render() {
    const widget = this.widget;
    const chatId = this.chatId;
    const chat = chatId ? widget.bound.chats.get(chatId) : null;
    if (!chatId || !chat) return;
    const find = (/** @type {string} */ selector) =>
      /** @type {HTMLTextAreaElement | HTMLInputElement | null} */ (
        this.node.querySelector(selector)
      );
    const replyDraft = find(".imagechat-reply textarea")?.value || this.returnedReply;
    this.returnedReply = "";
    const readOnly = widget.isReadOnly();
    const nameDraft = find(".imagechat-reply input[name=name]")?.value ?? null;
    const editDraft = find(".imagechat-comment--editing textarea")?.value ?? null;
    const scrollTop = this.node.querySelector(".imagechat-comments")?.scrollTop ?? 0;
    const focusKey = this.focusKey();

    const authorName = chat.author?.name || widget.t("unknownUser");
    const titleId = `imagechat-thread-title-${shortHash(chatId)}`;
    this.node.setAttribute("aria-labelledby", titleId);
    this.node.setAttribute("aria-label", widget.t("threadLabel", { name: authorName }));

    const comments = widget.bound.comments.get(chatId);
    const list = el("ol", { class: "imagechat-comments" });
    for (const comment of comments || []) {
      const draft = comment.id === this.editingCommentId ? (editDraft ?? comment.body) : null;
      list.append(this.commentItem(comment, draft, readOnly));
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
      isNarrowViewport() ? imageCrop(widget.img, chat.x, chat.y, widget.t("imageCrop")) : null,
      this.header(chat, titleId, authorName),
      status,
      list,
      // Read-only: no reply form, unless it holds typed text, which stays (not sendable).
      readOnly && !replyDraft.trim() ? null : this.replyForm(chat, replyDraft, readOnly),
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
    const actions = el("div", { class: "imagechat-thread-actions" }, [this.copyLinkButton(chat)]);
    top.append(actions);
    if (this.canModerate(chat)) {
      const resolve = el("button", {
        type: "button",
        class: "imagechat-button imagechat-resolve",
        text: chat.resolved ? widget.t("reopen") : widget.t("resolve"),
      });
      resolve.addEventListener("click", () =>
        this.run(() => widget.bound.setResolved(chat.id, !chat.resolved, widget.identity)),
      );
      const remove = confirmButton(
        "imagechat-delete-chat",
        widget.t("deleteChat"),
        widget.t("confirmDeleteChat"),
        () => this.run(() => widget.bound.deleteChat(chat.id, widget.identity)),
      );
      actions.append(resolve, remove);
    }
    return top;
  }

  /**
   * @param {Comment} comment
   * @param {string | null} editDraft the edit form's text, when this comment is being edited
   * @param {boolean} readOnly whether this visitor may not write here now
   */
  commentItem(comment, editDraft, readOnly) {
    const widget = this.widget;
    const user = widget.bound.api.user;
    const mine = Boolean(
      user && comment.author && user.id === comment.author.id && !comment.pending,
    );
    const own = mine && !readOnly;
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
          text: initials(name),
        });
    if (!(avatar instanceof HTMLImageElement)) avatar.style.background = personColour(comment.author);
    item.append(
      el("div", { class: "imagechat-comment-meta" }, [
        avatar,
        el("span", { class: "imagechat-comment-author", text: name }),
        el("time", {
          class: "imagechat-comment-time",
          datetime: comment.createdAt,
          title: this.formatTime(comment.createdAt),
          text: relativeTime(comment.createdAt, widget.locale),
        }),
        comment.editedAt
          ? el("span", { class: "imagechat-comment-edited", text: widget.t("edited") })
          : null,
        comment.pending
          ? el("span", { class: "imagechat-comment-edited", text: widget.t("markerPending") })
          : null,
      ]),
    );
    // An edit under way stays through a lock (its text kept, not sendable) until cancelled.
    if (mine && editDraft !== null) {
      item.classList.add("imagechat-comment--editing");
      item.append(this.editForm(comment, editDraft, readOnly));
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
        () => this.run(() => widget.bound.deleteComment(comment, widget.identity)),
      );
      item.append(el("div", { class: "imagechat-comment-actions" }, [edit, remove]));
    }
    return item;
  }

  /** @param {Comment} comment @param {string} text @param {boolean} locked sending refused */
  editForm(comment, text, locked) {
    const widget = this.widget;
    const area = /** @type {HTMLTextAreaElement} */ (
      el("textarea", {
        rows: "3",
        maxlength: String(MAX_COMMENT_LENGTH),
        "aria-label": widget.t("edit"),
        readonly: locked,
      })
    );
    area.value = text;
    const error = errorBox();
    if (locked) error.show(widget.t("readOnlyNotice"));
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
            disabled: locked,
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
      if (widget.isReadOnly()) return error.show(widget.t("readOnlyNotice"));
      if (browserOffline()) return error.show(widget.t("offlineSend"));
      const invalid = widget.checkBody(area.value);
      if (invalid) return error.show(invalid);
      widget.bound.editComment(comment, area.value.trim(), widget.identity).then(
        () => {
          if (this.editingCommentId === comment.id) this.editingCommentId = null;
          this.render();
        },
        (err) => error.show(widget.errorText(err)),
      );
    });
    return form;
  }

  /** @param {Chat} chat @param {string} text @param {boolean} locked sending refused */
  replyForm(chat, text, locked) {
    const widget = this.widget;
    const area = /** @type {HTMLTextAreaElement} */ (
      el("textarea", {
        name: "comment",
        rows: "2",
        maxlength: String(MAX_COMMENT_LENGTH),
        placeholder: widget.t("replyPlaceholder"),
        "aria-label": widget.t("replyLabel"),
        disabled: chat.pending ? true : null,
        readonly: locked,
      })
    );
    area.value = text;
    const error = errorBox();
    if (locked) error.show(widget.t("readOnlyNotice"));
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
            disabled: chat.pending || locked,
          }),
        ]),
      ])
    );
    submitOnCtrlEnter(area, form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (widget.isReadOnly()) return error.show(widget.t("readOnlyNotice"));
      // Offline means refuse now: nothing is sent and nothing is queued for later.
      if (browserOffline()) return error.show(widget.t("offlineSend"));
      const invalid = widget.checkBody(area.value) || widget.takeGuestName(form);
      if (invalid) return error.show(invalid);
      const body = area.value.trim();
      area.value = "";
      widget.bound.addComment(chat.id, body, widget.identity).catch((err) => {
        if (this.chatId !== chat.id) {
          widget.showNotice(widget.errorText(err));
          return;
        }
        // The form was re-rendered meanwhile: put the text back and say what went wrong.
        const current = /** @type {HTMLTextAreaElement | null} */ (
          this.node.querySelector(".imagechat-reply textarea")
        );
        if (current && !current.value) current.value = body;
        if (!current) {
          // Gone with writes closing (a refusal makes this page read-only): bring it back.
          this.returnedReply = body;
          this.render();
        }
        const box = /** @type {HTMLElement | null} */ (
          this.node.querySelector(".imagechat-reply .imagechat-error")
        );
        if (box) showError(box, widget.errorText(err));
      });
    });
    return form;
  }

  /**
   * "Copy link": the page's address with `#imagechat=<chatId>`, which opens this thread.
   * @param {Chat} chat
   */
  copyLinkButton(chat) {
    const widget = this.widget;
    const href = widget.deepLink(chat.id);
    const link = /** @type {HTMLAnchorElement} */ (
      el("a", {
        class: "imagechat-button imagechat-copy-link",
        href,
        text: this.copied ? widget.t("linkCopied") : widget.t("copyLink"),
      })
    );
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const done = () => {
        this.copied = true;
        link.textContent = widget.t("linkCopied");
        widget.announce(widget.t("linkCopied"));
        setTimeout(() => {
          this.copied = false;
          if (link.isConnected) link.textContent = widget.t("copyLink");
        }, 2500);
      };
      const clipboard = navigator.clipboard;
      if (clipboard && typeof clipboard.writeText === "function") {
        clipboard.writeText(href).then(done, () => {
          // No clipboard here (permissions, insecure page): the link itself still works.
          history.replaceState(history.state, "", href);
          done();
        });
      } else {
        history.replaceState(history.state, "", href);
        done();
      }
    });
    return link;
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
    const anchor = this.widget.markers.anchorOf(this.chatId);
    if (anchor) placeFloating(this.node, anchor.getBoundingClientRect());
    else if (isNarrowViewport()) placeFloating(this.node, { left: 0, top: 0, right: 0, bottom: 0 });
  }
}
