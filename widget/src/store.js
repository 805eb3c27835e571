/**
 * The pure store of one channel (one image): its chats, the threads loaded so far, and where its
 * event stream is (epoch and offset). No I/O and no DOM: the caller feeds it snapshots, server
 * frames and REST answers; it says what the caller must do next ("resubscribe" from its offset,
 * "reload" the snapshot) and emits changes for the views.
 *
 * Emits: "chats" (any marker change), "thread" (comments of a chat changed; detail chatId),
 * "replaced" ({tempId, chat}), "deleted" ({chatId, byOthers}), "announce" ({key, name, body}),
 * "presence" (viewers), "status", "readonly" (the server began or stopped refusing writes here:
 * see `readOnly`).
 */
import { isOlderEpoch, isOtherEpoch } from "./epoch.js";
import { Emitter } from "./util.js";

/** @typedef {import("./types.js").Chat} Chat */
/** @typedef {import("./types.js").Comment} Comment */
/** @typedef {import("./types.js").Snapshot} Snapshot */
/** @typedef {"resubscribe" | "reload" | "live" | null} Action */

/** Messages that are not events of the channel, whatever they carry. */
const NOT_EVENTS = new Set(["subscribed", "presence", "error", "pong"]);
const CHAT_CHANGES = new Set(["moved", "resolved", "reopened", "updated"]);

export class ChannelStore {
  /**
   * @param {string} urlId
   * @param {{isOwn?: (broadcastId: string) => boolean}} [options] tells this page's own writes
   */
  constructor(urlId, options = {}) {
    this.urlId = urlId;
    this.isOwn = options.isOwn || (() => false);
    this.events = new Emitter();
    /** @type {Map<string, Chat>} */
    this.chats = new Map();
    /** Comments of chats whose thread was loaded (or created here): the offline cache. */
    /** @type {Map<string, Comment[]>} */
    this.comments = new Map();
    /** Ids deleted while a write about them was in flight, so a late answer cannot revive them. */
    /** @type {Set<string>} */
    this.deletedIds = new Set();
    /** @type {string | null} */
    this.epoch = null;
    /** @type {number | null} */
    this.offset = null;
    this.loaded = false;
    /** Whether events flow: a confirmed subscription (or polling) that is up to date. */
    this.live = false;
    /** A hole was reported and its replay has not come yet: one re-subscribe per hole. */
    this.awaitingReplay = false;
    /** `recovered: false` answers in a row, so the caller can slow down its reloads. */
    this.failedRecoveries = 0;
    this.viewers = 0;
    /**
     * Whether the server takes writes here from moderators and admins only (the site is
     * read-only, or the image is locked): the snapshot's `readOnly`, then `image-updated` events.
     */
    this.readOnly = false;
    /** Snapshots and `image-updated` events applied, so a late refusal cannot undo a newer one. */
    this.readOnlyChanges = 0;
  }

  // --- reading the channel ---------------------------------------------------------------------

  /**
   * Takes a snapshot (GET /chats). A snapshot of an older history than the one we are in is a
   * late answer and is ignored.
   * @param {Snapshot} snapshot
   * @returns {boolean} whether it was applied
   */
  applySnapshot(snapshot) {
    if (isOlderEpoch(snapshot.epoch, this.epoch)) return false;
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
    this.awaitingReplay = false;
    this.events.emit("chats");
    this.changeReadOnly(snapshot.readOnly === true);
    return true;
  }

  /**
   * One server message about this channel (a frame's array is handed over item by item).
   * @param {any} message
   * @returns {Action}
   */
  receive(message) {
    if (!message || typeof message !== "object") return null;
    if (message.type === "subscribed") return this.onSubscribed(message);
    if (message.type === "presence") {
      if (typeof message.viewers === "number") {
        this.viewers = message.viewers;
        this.events.emit("presence", this.viewers);
      }
      return null;
    }
    // Any other message with an offset is an event of this channel: one this widget does not
    // know is ignored (the server may add some), but it still takes its place in the order.
    if (typeof message.offset === "number" && !NOT_EVENTS.has(message.type)) {
      return this.applyEvent(message, true);
    }
    return null;
  }

  /**
   * The answer to a subscribe: replayed events, or `recovered: false`.
   * @param {any} message
   * @returns {Action}
   */
  onSubscribed(message) {
    if (!this.loaded) return null; // a late answer to a channel we reloaded meanwhile
    if (isOlderEpoch(message.epoch, this.epoch)) return null; // from an older history: late
    this.awaitingReplay = false;
    if (message.recovered === false || isOtherEpoch(message.epoch, this.epoch)) {
      // History no longer reaches our offset (or the epoch changed): reload the snapshot,
      // whose own subscribe carries the new position.
      this.failedRecoveries += 1;
      this.setLive(false);
      return "reload";
    }
    this.failedRecoveries = 0;
    for (const event of Array.isArray(message.events) ? message.events : []) {
      this.applyEvent(event, false);
    }
    if (typeof message.offset === "number" && this.offset !== null && this.offset < message.offset) {
      // The server is further than the events it gave us: do not guess, reload.
      this.setLive(false);
      return "reload";
    }
    this.setLive(true);
    return "live";
  }

  /**
   * An answer of GET /events (the polling transport): the same rules as a replay.
   * @param {any} answer
   * @returns {Action}
   */
  receivePolled(answer) {
    if (!answer || typeof answer !== "object") return null;
    return this.onSubscribed({ ...answer, type: "subscribed" });
  }

  /**
   * Applies one event in offset order. Old offsets are ignored; a hole means something was lost,
   * so a live event past a hole asks for a re-subscribe from our offset (once per hole).
   * @param {any} event
   * @param {boolean} live whether it came on its own (not inside a replay)
   * @returns {Action}
   */
  applyEvent(event, live) {
    if (!event || this.offset === null || typeof event.offset !== "number") return null;
    if (isOlderEpoch(event.epoch, this.epoch)) return null; // late, from an older history
    if (isOtherEpoch(event.epoch, this.epoch)) {
      // A newer history began: our offsets mean nothing there.
      if (!live) return null;
      this.setLive(false);
      return "reload";
    }
    if (event.offset <= this.offset) return null; // seen already
    if (event.offset > this.offset + 1) {
      if (!live || this.awaitingReplay) return null; // the replay will bring it
      this.awaitingReplay = true;
      return "resubscribe";
    }
    this.offset = event.offset;
    // A lock is never applied from a REST answer of this page: it counts whoever caused it.
    if (event.type === "image-updated") {
      if (typeof event.readOnly === "boolean") this.changeReadOnly(event.readOnly);
      return null;
    }
    // Our own write: already applied from its REST answer (or about to be).
    if (event.broadcastId && this.isOwn(event.broadcastId)) return null;
    switch (event.type) {
      case "new-image-chat":
        this.onNewChat(event);
        break;
      case "image-chat-updated":
        this.onChatUpdated(event);
        break;
      case "deleted-image-chat":
        if (typeof event.chatId === "string" && this.chats.has(event.chatId)) {
          this.removeChat(event.chatId, true);
          this.events.emit("announce", { key: "announceDeleted" });
        }
        break;
      default:
        break;
    }
    return null;
  }

  /** @param {boolean} live */
  setLive(live) {
    if (this.live === live) return;
    this.live = live;
    this.events.emit("status");
  }

  /**
   * The server's word on whether writes are refused here (a snapshot or an event).
   * @param {boolean} readOnly
   */
  changeReadOnly(readOnly) {
    this.readOnlyChanges += 1;
    this.setReadOnly(readOnly);
  }

  /**
   * A write sent when `readOnlyChanges` was `seen` was refused because writes are closed here:
   * read-only until the server says otherwise. When a snapshot or event came meanwhile, it is
   * newer than the refusal and stands.
   * @param {number} seen
   */
  writeRefused(seen) {
    if (seen === this.readOnlyChanges) this.setReadOnly(true);
  }

  /** @param {boolean} readOnly */
  setReadOnly(readOnly) {
    if (this.readOnly === readOnly) return;
    this.readOnly = readOnly;
    this.events.emit("readonly", readOnly);
  }

  /** The transport dropped: events may be missed until the next subscribe answers. */
  disconnected() {
    this.awaitingReplay = false;
    this.setLive(false);
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
    const change = event.change;
    const known =
      CHAT_CHANGES.has(change) ||
      change === "comment-added" ||
      change === "comment-edited" ||
      change === "comment-deleted" ||
      change === "comment-hidden" ||
      change === "comment-restored";
    if (!known) return; // a change this widget does not know: ignored, as the protocol asks
    const chatId = event.chat.id;
    this.upsertChat(event.chat);
    const cached = this.comments.get(chatId);
    const comment = event.comment;
    if (cached) {
      if (change === "comment-added" && comment) {
        if (!cached.some((c) => c.id === comment.id)) cached.push(comment);
      } else if (change === "comment-edited" && comment) {
        const index = cached.findIndex((c) => c.id === comment.id);
        if (index >= 0) cached[index] = comment;
      } else if (change === "comment-deleted") {
        const gone = event.commentId ?? comment?.id;
        if (typeof gone === "string") this.dropComment(chatId, gone);
        else this.comments.delete(chatId); // cannot tell which one: reload on next open
      } else if (change === "comment-hidden" && typeof event.commentId === "string") {
        // A moderator hid it: it leaves the thread like a deleted one (no words are sent).
        this.dropComment(chatId, event.commentId);
      } else if (change === "comment-restored" && comment) {
        if (!cached.some((c) => c.id === comment.id)) {
          cached.push(comment);
          cached.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
        }
      }
    }
    this.events.emit("chats");
    this.events.emit("thread", chatId);
    if (change === "comment-added" && comment) {
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
      !existing.pending &&
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

  /** @param {string} chatId @param {string} commentId */
  dropComment(chatId, commentId) {
    const list = this.comments.get(chatId);
    if (!list) return;
    const index = list.findIndex((c) => c.id === commentId);
    if (index >= 0) list.splice(index, 1);
  }

  /** Sum of comments over all markers, for onCommentCountUpdated. */
  get commentCount() {
    let total = 0;
    for (const chat of this.chats.values()) total += Number(chat.commentCount) || 0;
    return total;
  }

  // --- REST answers and optimistic writes -------------------------------------------------------

  /**
   * A thread read (GET /chats/{id}); comments still being sent from here stay at the end.
   * @param {string} chatId
   * @param {{chat?: Chat, comments?: Comment[]}} answer
   */
  setThread(chatId, answer) {
    if (this.deletedIds.has(chatId)) return;
    if (answer.chat) this.upsertChat(answer.chat);
    const pendingHere = (this.comments.get(chatId) || []).filter((c) => c.pending);
    this.comments.set(chatId, [...(answer.comments || []), ...pendingHere]);
    this.events.emit("chats");
    this.events.emit("thread", chatId);
  }

  /**
   * Shows a chat being created at once, under a temporary id.
   * @param {Chat} chat
   * @param {Comment} comment
   */
  addPendingChat(chat, comment) {
    this.chats.set(chat.id, { ...chat, pending: true });
    this.comments.set(chat.id, [{ ...comment, pending: true }]);
    this.events.emit("chats");
  }

  /**
   * The server created it: swap the temporary chat for the real one.
   * @param {string} tempId
   * @param {{chat: Chat, comment?: Comment}} answer
   */
  confirmChat(tempId, answer) {
    this.chats.delete(tempId);
    this.comments.delete(tempId);
    if (!this.deletedIds.has(answer.chat.id)) {
      this.upsertChat(answer.chat);
      if (answer.comment && !this.comments.has(answer.chat.id)) {
        this.comments.set(answer.chat.id, [answer.comment]);
      }
    }
    this.events.emit("replaced", { tempId, chat: answer.chat });
    this.events.emit("chats");
  }

  /** The create failed: the temporary chat goes. @param {string} tempId */
  dropPendingChat(tempId) {
    this.chats.delete(tempId);
    this.comments.delete(tempId);
    this.events.emit("deleted", { chatId: tempId, byOthers: false });
    this.events.emit("chats");
  }

  /** @param {Comment} comment a reply being sent, shown at once */
  addPendingComment(comment) {
    const list = this.comments.get(comment.chatId) || [];
    list.push({ ...comment, pending: true });
    this.comments.set(comment.chatId, list);
    this.events.emit("thread", comment.chatId);
  }

  /**
   * @param {string} chatId
   * @param {string} tempId
   * @param {{chat?: Chat, comment?: Comment} | null} answer null when the write failed
   */
  settleComment(chatId, tempId, answer) {
    this.dropComment(chatId, tempId);
    if (answer && !this.deletedIds.has(chatId)) {
      if (answer.chat) this.upsertChat(answer.chat);
      const current = this.comments.get(chatId);
      const comment = answer.comment;
      if (current && comment && !current.some((c) => c.id === comment.id)) current.push(comment);
      this.events.emit("chats");
    }
    this.events.emit("thread", chatId);
  }

  /**
   * A write's answer about a chat (move, resolve, edit, delete of a comment).
   * @param {{chat?: Chat, comment?: Comment}} answer
   * @param {{editedComment?: boolean, deletedCommentId?: string}} [what]
   */
  applyAnswer(answer, what = {}) {
    const chat = answer.chat;
    if (!chat || this.deletedIds.has(chat.id)) return;
    this.upsertChat(chat);
    const list = this.comments.get(chat.id);
    if (list && what.editedComment && answer.comment) {
      const comment = answer.comment;
      const index = list.findIndex((c) => c.id === comment.id);
      if (index >= 0) list[index] = comment;
    }
    if (what.deletedCommentId) this.dropComment(chat.id, what.deletedCommentId);
    this.events.emit("chats");
    this.events.emit("thread", chat.id);
  }

  /**
   * Moves a marker on screen before the server confirms it.
   * @param {string} chatId
   * @param {number} x
   * @param {number} y
   * @returns {{x: number, y: number} | null} where it was, to put it back if the move fails
   */
  moveLocally(chatId, x, y) {
    const chat = this.chats.get(chatId);
    if (!chat) return null;
    const before = { x: chat.x, y: chat.y };
    this.chats.set(chatId, { ...chat, x, y });
    this.events.emit("chats");
    return before;
  }
}
