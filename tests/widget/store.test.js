// The pure channel store, driven by the shared JSON frame sequences in tests/fixtures/frames
// (the Python client's tests replay the same files).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { ChannelStore } from "../../widget/src/store.js";

const folder = fileURLToPath(new URL("../fixtures/frames/", import.meta.url));
const fixtures = readdirSync(folder)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => ({ name, ...JSON.parse(readFileSync(folder + name, "utf8")) }));

/** Checks the parts of the store's state an expectation names. */
function check(store, expected, where) {
  if ("epoch" in expected) assert.equal(store.epoch, expected.epoch, `${where}: epoch`);
  if ("offset" in expected) assert.equal(store.offset, expected.offset, `${where}: offset`);
  if ("live" in expected) assert.equal(store.live, expected.live, `${where}: live`);
  if ("chats" in expected) {
    assert.deepEqual([...store.chats.keys()].sort(), Object.keys(expected.chats).sort(), `${where}: chat ids`);
    for (const [id, fields] of Object.entries(expected.chats)) {
      const chat = store.chats.get(id);
      for (const [field, value] of Object.entries(fields)) {
        assert.deepEqual(chat[field], value, `${where}: ${id}.${field}`);
      }
    }
  }
  for (const [chatId, ids] of Object.entries(expected.comments || {})) {
    assert.deepEqual((store.comments.get(chatId) || []).map((c) => c.id), ids, `${where}: comments of ${chatId}`);
  }
}

test("there are frame fixtures", () => {
  assert.ok(fixtures.length >= 5, `only ${fixtures.length} fixtures in ${folder}`);
});

for (const fixture of fixtures) {
  test(`${fixture.name}: ${fixture.description}`, () => {
    const own = new Set();
    const store = new ChannelStore(fixture.urlId, { isOwn: (id) => own.has(id) });
    fixture.steps.forEach((step, index) => {
      const where = `${fixture.name} step ${index}`;
      if (step.snapshot) {
        assert.equal(store.applySnapshot(step.snapshot), step.applied ?? true, `${where}: applied`);
      } else if (step.frame !== undefined) {
        const messages = Array.isArray(step.frame) ? step.frame : [step.frame];
        const actions = messages.map((message) => store.receive(message)).filter(Boolean);
        assert.deepEqual(actions, step.actions ?? [], `${where}: actions`);
      } else if (step.poll) {
        const actions = [store.receivePolled(step.poll)].filter(Boolean);
        assert.deepEqual(actions, step.actions ?? [], `${where}: actions`);
      } else if (step.own) {
        own.add(step.own);
      } else if (step.thread) {
        store.setThread(step.thread.chatId, step.thread);
      } else if (step.pendingChat) {
        store.addPendingChat(step.pendingChat.chat, step.pendingChat.comment);
      } else if (step.confirmChat) {
        store.confirmChat(step.confirmChat.tempId, step.confirmChat.answer);
      } else if (step.expect) {
        check(store, step.expect, where);
      } else {
        assert.fail(`${where}: unknown step ${JSON.stringify(step)}`);
      }
    });
    check(store, fixture.expect, `${fixture.name} at the end`);
  });
}

test("events are announced for others' writes only", () => {
  const store = new ChannelStore("img", { isOwn: (id) => id === "mine" });
  const announced = [];
  store.events.listen((type, detail) => type === "announce" && announced.push(detail.key));
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [] });
  const chat = (id) => ({ id, x: 1, y: 1, commentCount: 1, resolved: false, version: 1, author: { name: "A" } });
  const base = { tenantId: "t", urlId: "img", epoch: "00000001.a" };
  store.receive({ ...base, type: "new-image-chat", offset: 1, broadcastId: "mine", chat: chat("x"), comment: { id: "k", body: "b" } });
  store.receive({ ...base, type: "new-image-chat", offset: 2, broadcastId: "theirs", chat: chat("y"), comment: { id: "k2", body: "b", author: { name: "B" } } });
  assert.deepEqual(announced, ["announceNewChat"]);
  assert.equal(store.offset, 2);
  assert.ok(!store.chats.has("x"), "own echo is not applied a second time");
});

test("a failed create leaves nothing behind and a late REST answer cannot revive a deleted chat", () => {
  const store = new ChannelStore("img");
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [] });
  const temp = { id: "temp-1", x: 1, y: 1, commentCount: 1, resolved: false, version: 0 };
  store.addPendingChat(temp, { id: "temp-c-1", chatId: "temp-1", body: "hi" });
  store.dropPendingChat("temp-1");
  assert.equal(store.chats.size, 0);
  assert.equal(store.comments.size, 0);

  store.addPendingChat(temp, { id: "temp-c-1", chatId: "temp-1", body: "hi" });
  store.receive({ type: "deleted-image-chat", epoch: "00000001.a", offset: 1, chatId: "real" });
  store.removeChat("real", true);
  store.confirmChat("temp-1", { chat: { ...temp, id: "real", version: 1 } });
  assert.equal(store.chats.size, 0);
});

test("an older version never overwrites a newer one, and a move can be undone", () => {
  const store = new ChannelStore("img");
  const chat = { id: "c", x: 1, y: 1, commentCount: 1, resolved: false, version: 5 };
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [chat] });
  store.applyAnswer({ chat: { ...chat, x: 9, version: 4 } });
  assert.equal(store.chats.get("c").x, 1);
  const before = store.moveLocally("c", 40, 60);
  assert.deepEqual(before, { x: 1, y: 1 });
  assert.deepEqual([store.chats.get("c").x, store.chats.get("c").y], [40, 60]);
  store.moveLocally("c", before.x, before.y);
  assert.equal(store.chats.get("c").x, 1);
  assert.equal(store.moveLocally("missing", 1, 1), null);
});

test("malformed messages are ignored", () => {
  const store = new ChannelStore("img");
  for (const junk of [null, 3, "x", {}, { type: "new-image-chat" }, { type: "presence", viewers: "many" }]) {
    assert.equal(store.receive(junk), null);
  }
  // Before the snapshot nothing is applied (there is no offset to apply it at).
  assert.equal(store.receive({ type: "new-image-chat", offset: 1, chat: { id: "c" } }), null);
  assert.equal(store.chats.size, 0);
  assert.equal(store.receive({ type: "subscribed", offset: 1, events: [] }), null);
});

test("presence counts viewers and ignores nonsense", () => {
  const store = new ChannelStore("img");
  const seen = [];
  store.events.listen((type, detail) => type === "presence" && seen.push(detail));
  store.receive({ type: "presence", viewers: 3 });
  assert.equal(store.viewers, 3);
  assert.deepEqual(seen, [3]);
});

test("a comment hidden by a moderator leaves an open thread and comes back in its place", () => {
  const store = new ChannelStore("img");
  const chat = { id: "c", x: 1, y: 1, commentCount: 3, resolved: false, version: 1 };
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [chat] });
  const at = (n) => ({ id: `m${n}`, chatId: "c", body: `words ${n}`, createdAt: `2026-11-26T10:00:0${n}.000Z` });
  store.setThread("c", { chat, comments: [at(1), at(2), at(3)] });
  const base = { type: "image-chat-updated", tenantId: "t", urlId: "img", epoch: "00000001.a" };
  store.receive({ ...base, offset: 1, change: "comment-hidden", chat: { ...chat, version: 2 }, commentId: "m2" });
  assert.deepEqual(store.comments.get("c").map((c) => c.id), ["m1", "m3"]);
  store.receive({ ...base, offset: 2, change: "comment-restored", chat: { ...chat, version: 3 }, comment: at(2) });
  assert.deepEqual(store.comments.get("c").map((c) => c.id), ["m1", "m2", "m3"]);
  store.receive({ ...base, offset: 3, change: "comment-restored", chat: { ...chat, version: 4 }, comment: at(2) });
  assert.deepEqual(store.comments.get("c").map((c) => c.id), ["m1", "m2", "m3"]);
  assert.equal(store.chats.get("c").version, 4);
});

test("the snapshot says whether writes are closed here, and each snapshot says it again", () => {
  const store = new ChannelStore("img");
  const seen = [];
  store.events.listen((type, detail) => type === "readonly" && seen.push(detail));
  assert.equal(store.readOnly, false);
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [], readOnly: true });
  assert.equal(store.readOnly, true);
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [], readOnly: true });
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [] }); // a server without the field
  assert.equal(store.readOnly, false);
  assert.deepEqual(seen, [true, false], "a change is emitted once, only when it changes");
});

test("image-updated locks and unlocks in offset order, whoever sent it", () => {
  const store = new ChannelStore("img", { isOwn: (id) => id === "mine" });
  const seen = [];
  store.events.listen((type, detail) => type === "readonly" && seen.push(detail));
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [], readOnly: false });
  const base = { type: "image-updated", tenantId: "t", urlId: "img", epoch: "00000001.a" };
  assert.equal(store.receive({ ...base, offset: 1, broadcastId: "admin", readOnly: true }), null);
  assert.equal(store.readOnly, true);
  // A broadcastId of this page does not make it an echo already applied: a lock has no answer.
  store.receive({ ...base, offset: 2, broadcastId: "mine", readOnly: false });
  assert.equal(store.readOnly, false);
  store.receive({ ...base, offset: 3, broadcastId: "admin", readOnly: true });
  assert.deepEqual(seen, [true, false, true]);
  assert.equal(store.offset, 3);
  // Without a boolean it says nothing, but still takes its place in the order.
  store.receive({ ...base, offset: 4, broadcastId: "admin" });
  assert.equal(store.readOnly, true);
  assert.equal(store.offset, 4);
});

test("an old, repeated, out-of-order or older-epoch image-updated is not applied", () => {
  const store = new ChannelStore("img");
  store.applySnapshot({ epoch: "00000002.b", offset: 5, chats: [], readOnly: true });
  const base = { type: "image-updated", tenantId: "t", urlId: "img", broadcastId: "admin" };
  // Already part of the snapshot.
  assert.equal(store.receive({ ...base, epoch: "00000002.b", offset: 5, readOnly: false }), null);
  // From the history before the current one.
  assert.equal(store.receive({ ...base, epoch: "00000001.a", offset: 9, readOnly: false }), null);
  assert.equal(store.readOnly, true);
  // Past a hole: the replay brings it in its place, nothing is applied meanwhile.
  assert.equal(
    store.receive({ ...base, epoch: "00000002.b", offset: 7, readOnly: false }),
    "resubscribe",
  );
  assert.equal(store.readOnly, true);
  const replay = {
    type: "subscribed",
    epoch: "00000002.b",
    offset: 7,
    events: [
      { ...base, epoch: "00000002.b", offset: 6, readOnly: false },
      { ...base, epoch: "00000002.b", offset: 7, readOnly: true },
    ],
  };
  assert.equal(store.receive(replay), "live");
  assert.equal(store.readOnly, true, "the later of the two stands");
  assert.equal(store.offset, 7);
});

test("a refused write makes the store read-only, unless the server spoke since it was sent", () => {
  const store = new ChannelStore("img");
  store.applySnapshot({ epoch: "00000001.a", offset: 0, chats: [], readOnly: false });
  const base = { type: "image-updated", tenantId: "t", urlId: "img", epoch: "00000001.a" };
  let sent = store.readOnlyChanges;
  store.writeRefused(sent);
  assert.equal(store.readOnly, true);

  store.receive({ ...base, offset: 1, broadcastId: "admin", readOnly: false });
  sent = store.readOnlyChanges;
  // Locked and unlocked again while the write was on its way: its refusal is older news.
  store.receive({ ...base, offset: 2, broadcastId: "admin", readOnly: true });
  store.receive({ ...base, offset: 3, broadcastId: "admin", readOnly: false });
  store.writeRefused(sent);
  assert.equal(store.readOnly, false);
});
