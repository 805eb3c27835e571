/** Small helpers without DOM: ids, hashes, backoff, a tiny emitter, safe localStorage. */

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 20000;

/** @returns {string} a random UUID, also in insecure contexts where randomUUID is missing. */
export function uuid() {
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

/**
 * Full jitter: spreads reconnecting clients after a server restart instead of a stampede.
 * @param {number} attempt
 * @param {number} [base]
 * @param {number} [cap]
 */
export function backoffDelay(attempt, base = RECONNECT_BASE_MS, cap = RECONNECT_CAP_MS) {
  return Math.random() * Math.min(cap, base * 2 ** attempt);
}

/** @param {string} text @returns {string} a 32-bit FNV-1a hash in hex */
export function shortHash(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** @param {number} value @returns {number} a percentage kept within 0..100, to 3 decimals */
export function clampPercent(value) {
  return Math.round(Math.max(0, Math.min(100, value)) * 1000) / 1000;
}

/** @param {string} server */
export function normalizeServer(server) {
  return String(server || "").replace(/\/+$/, "");
}

/** @typedef {(type: string, detail?: any) => void} Listener */

/** Tiny event emitter used by stores and connections. */
export class Emitter {
  constructor() {
    /** @type {Set<Listener>} */
    this.listeners = new Set();
  }
  /** @param {Listener} fn @returns {() => void} what stops listening */
  listen(fn) {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
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

/** localStorage can throw (privacy modes, sandboxed frames); the widget must not. */
export const storage = {
  /** @param {string} key @returns {any} */
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
