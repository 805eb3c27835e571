/** The browser's online/offline state: one listener pair for the whole page. */
import { Emitter } from "./util.js";

export const network = new Emitter();
if (typeof window !== "undefined") {
  window.addEventListener("online", () => network.emit("online"));
  window.addEventListener("offline", () => network.emit("offline"));
}

/** `navigator.onLine === false` is reliable (true is not), so only false counts as offline. */
export function browserOffline() {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}
