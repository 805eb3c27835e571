/** broadcastIds this page made: events carrying one are our own echo and are not re-applied. */
import { uuid } from "./util.js";

/** Plenty for the writes of one page view; keeps a page left open for days bounded. */
const KEPT = 5000;

/** @type {Set<string>} */
export const ownBroadcastIds = new Set();

/** @returns {string} a fresh broadcastId, remembered as this page's own */
export function newBroadcastId() {
  const id = uuid();
  ownBroadcastIds.add(id);
  if (ownBroadcastIds.size > KEPT) {
    // Sets iterate in insertion order: drop the oldest, long since echoed.
    const oldest = ownBroadcastIds.values().next().value;
    if (oldest !== undefined) ownBroadcastIds.delete(oldest);
  }
  return id;
}

/** A write that failed: should it have landed after all, its event must be applied. */
/** @param {string} id */
export function forgetBroadcastId(id) {
  ownBroadcastIds.delete(id);
}
