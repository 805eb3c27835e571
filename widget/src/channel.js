/**
 * One image's conversations on this page: the pure store fed by the REST snapshot, the page's
 * live connection (or the polling fallback), and the writes. Several widgets showing the same
 * image on one page share one Channel (and one subscription).
 */
import { Api, ApiError, isReadOnlyRefusal } from "./api.js";
import { forgetBroadcastId, newBroadcastId, ownBroadcastIds } from "./broadcast-ids.js";
import { LiveConnection, channelKey } from "./connection.js";
import { browserOffline } from "./network.js";
import { Poller } from "./poller.js";
import { ChannelStore } from "./store.js";
import { backoffDelay } from "./util.js";

/** @typedef {import("./types.js").Chat} Chat */
/** @typedef {import("./types.js").Comment} Comment */
/** @typedef {import("./types.js").Identity} Identity */
/** @typedef {import("./store.js").Action} Action */

export class Channel {
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
    this.store = new ChannelStore(urlId, { isOwn: (id) => ownBroadcastIds.has(id) });
    this.events = this.store.events;
    this.users = 0;
    /** @type {Promise<void> | null} */
    this.snapshotPromise = null;
    this.sentToken = false;
    /** @type {string | null} */
    this.loadError = null;
    this.snapshotAttempt = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.disposed = false;
    /** @type {Identity | null} who reads, for private tenants (set by the widgets) */
    this.readIdentity = null;
    this.poller = new Poller(() => this.pollOnce());
  }

  // The store's state, read by the views.
  get chats() {
    return this.store.chats;
  }
  get comments() {
    return this.store.comments;
  }
  get loaded() {
    return this.store.loaded;
  }
  get live() {
    return this.store.live;
  }
  get viewers() {
    return this.store.viewers;
  }
  /** Whether the server refuses writes here except from moderators and admins. */
  get readOnly() {
    return this.store.readOnly;
  }
  get epoch() {
    return this.store.epoch;
  }
  get offset() {
    return this.store.offset;
  }
  get commentCount() {
    return this.store.commentCount;
  }
  /** The token a subscribe carries (private tenants need one). */
  get token() {
    return this.api.session?.token ?? null;
  }
  /** Whether events come by polling GET /events because the socket cannot connect. */
  get polling() {
    return this.connection.polling;
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
    this.poller.stop();
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
        this.store.applySnapshot(snapshot);
        this.snapshotAttempt = 0;
        this.loadError = null;
        this.events.emit("status");
        if (this.polling) this.poller.start();
        else this.connection.subscribe(this);
      } catch (err) {
        if (this.disposed) return;
        this.loadError = err instanceof ApiError ? err.code : "network";
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

  // --- the connection's callbacks --------------------------------------------------------------

  onSocketOpen() {
    // While polling, events keep coming by GET /events until this socket proves itself.
    if (!this.polling) this.store.disconnected();
    if (this.loaded && !this.snapshotPromise) this.connection.subscribe(this);
    else if (!this.loaded && !this.snapshotPromise) this.loadSnapshot();
    // otherwise the running snapshot load subscribes when it finishes
  }

  onSocketClosed() {
    if (!this.polling) this.store.disconnected();
  }

  onTransportChanged() {
    if (this.polling) {
      if (this.loaded) this.poller.start();
    } else {
      this.poller.stop();
    }
    this.events.emit("status");
  }

  /** @param {any} message a server message about this channel */
  receive(message) {
    if (message && message.type === "subscribed") this.poller.stop();
    this.act(this.store.receive(message));
  }

  /** @param {Action} action */
  act(action) {
    if (action === "resubscribe") {
      if (this.polling) return; // the next poll asks from our offset anyway
      if (!this.connection.subscribe(this)) this.store.disconnected();
    } else if (action === "reload") {
      this.resyncFromSnapshot();
    }
  }

  /** Asks GET /events once (the polling transport) and applies what it brings. */
  async pollOnce() {
    if (!this.loaded || this.snapshotPromise || this.store.epoch === null) return;
    const query =
      `/events?urlId=${encodeURIComponent(this.urlId)}` +
      `&epoch=${encodeURIComponent(this.store.epoch)}&since=${this.store.offset ?? 0}`;
    const answer = await this.api.read(query, this.identity);
    if (this.disposed || !this.polling) return;
    this.act(this.store.receivePolled(answer));
  }

  /** @returns {Promise<boolean>} whether the server answers over HTTP at all (any status) */
  async reachable() {
    const since = `&epoch=${encodeURIComponent(this.store.epoch ?? "")}&since=${this.store.offset ?? 0}`;
    try {
      await this.api.send("GET", `/events?urlId=${encodeURIComponent(this.urlId)}${since}`);
      return true;
    } catch (err) {
      return err instanceof ApiError && err.status > 0;
    }
  }

  resyncFromSnapshot() {
    if (this.store.failedRecoveries > 3) {
      // Something is odd on the server: keep trying, but not in a tight loop.
      if (this.retryTimer) return;
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = null;
          if (!this.disposed) this.loadSnapshot();
        },
        backoffDelay(Math.min(this.store.failedRecoveries, 6)),
      );
      return;
    }
    this.loadSnapshot();
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

  // --- reads and writes ----------------------------------------------------------------------

  /** @param {string} chatId */
  async loadThread(chatId) {
    const answer = await this.api.read(`/chats/${encodeURIComponent(chatId)}`, this.identity);
    this.store.setThread(chatId, answer);
  }

  /**
   * A write of this channel. A refusal because writes are closed here makes the channel
   * read-only at once: the server said so, before any event might.
   * @param {string} method
   * @param {string} path
   * @param {Identity} identity
   * @param {unknown} [body]
   */
  async write(method, path, identity, body) {
    const seen = this.store.readOnlyChanges;
    try {
      return await this.api.write(method, path, identity, body);
    } catch (err) {
      if (isReadOnlyRefusal(err)) this.store.writeRefused(seen);
      throw err;
    }
  }

  /** @param {Identity} identity @returns {import("./types.js").User} who is writing */
  author(identity) {
    return (
      this.api.user ?? {
        id: "me",
        name: identity.guestName || this.api.guestName || "",
        avatarUrl: null,
        role: "guest",
      }
    );
  }

  /**
   * Creates a chat: shows it at once under a temporary id, then swaps in the server's answer.
   * @param {{x: number, y: number, body: string, identity: Identity, imageSrc: string}} input
   * @returns {Promise<Chat>}
   */
  async createChat(input) {
    const broadcastId = newBroadcastId();
    const tempId = `temp-${broadcastId}`;
    const now = new Date().toISOString();
    const author = this.author(input.identity);
    this.store.addPendingChat(
      {
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
      },
      {
        id: `temp-c-${broadcastId}`,
        chatId: tempId,
        body: input.body,
        author,
        createdAt: now,
        editedAt: null,
      },
    );
    try {
      const answer = await this.write("POST", "/chats", input.identity, {
        urlId: this.urlId,
        x: input.x,
        y: input.y,
        comment: input.body,
        broadcastId,
        pageUrl: location.origin + location.pathname,
        imageSrc: input.imageSrc || undefined,
      });
      this.store.confirmChat(tempId, answer);
      return answer.chat;
    } catch (err) {
      // If the write did land after all, its event must now be applied, not skipped.
      forgetBroadcastId(broadcastId);
      this.store.dropPendingChat(tempId);
      throw err;
    }
  }

  /** @param {string} chatId @param {string} body @param {Identity} identity */
  async addComment(chatId, body, identity) {
    const broadcastId = newBroadcastId();
    const tempId = `temp-c-${broadcastId}`;
    this.store.addPendingComment({
      id: tempId,
      chatId,
      body,
      author: this.author(identity),
      createdAt: new Date().toISOString(),
      editedAt: null,
    });
    try {
      const answer = await this.write(
        "POST",
        `/chats/${encodeURIComponent(chatId)}/comments`,
        identity,
        { comment: body, broadcastId },
      );
      this.store.settleComment(chatId, tempId, answer);
    } catch (err) {
      forgetBroadcastId(broadcastId);
      this.store.settleComment(chatId, tempId, null);
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
      return await this.write(method, pathOf(broadcastId), identity, bodyOf?.(broadcastId));
    } catch (err) {
      forgetBroadcastId(broadcastId);
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
    this.store.applyAnswer(answer, { editedComment: true });
  }

  /** @param {Comment} comment @param {Identity} identity */
  async deleteComment(comment, identity) {
    const answer = await this.ownWrite(
      "DELETE",
      (broadcastId) =>
        `/comments/${encodeURIComponent(comment.id)}?broadcastId=${encodeURIComponent(broadcastId)}`,
      identity,
    );
    if (answer && answer.chat) {
      this.store.applyAnswer(answer, { deletedCommentId: comment.id });
    } else {
      // It was the chat's last comment: the chat is gone with it.
      this.store.removeChat(comment.chatId, false);
    }
  }

  /** @param {string} chatId @param {boolean} resolved @param {Identity} identity */
  async setResolved(chatId, resolved, identity) {
    const answer = await this.ownWrite(
      "PATCH",
      () => `/chats/${encodeURIComponent(chatId)}`,
      identity,
      (broadcastId) => ({ broadcastId, resolved }),
    );
    this.store.applyAnswer(answer);
  }

  /**
   * Moves a marker: on screen at once, then on the server; put back where it was on failure.
   * @param {string} chatId @param {number} x @param {number} y
   * @param {{x: number, y: number} | null} from where it was before the move began
   * @param {Identity} identity
   */
  async moveChat(chatId, x, y, from, identity) {
    const shown = this.store.moveLocally(chatId, x, y);
    if (!shown) return;
    const before = from || shown;
    try {
      const answer = await this.ownWrite(
        "PATCH",
        () => `/chats/${encodeURIComponent(chatId)}`,
        identity,
        (broadcastId) => ({ broadcastId, x, y }),
      );
      this.store.applyAnswer(answer);
    } catch (err) {
      const now = this.store.chats.get(chatId);
      if (now && now.x === x && now.y === y) this.store.moveLocally(chatId, before.x, before.y);
      throw err;
    }
  }

  /** @param {string} chatId @param {Identity} identity */
  async deleteChat(chatId, identity) {
    await this.ownWrite(
      "DELETE",
      (broadcastId) =>
        `/chats/${encodeURIComponent(chatId)}?broadcastId=${encodeURIComponent(broadcastId)}`,
      identity,
    );
    this.store.removeChat(chatId, false);
  }
}
