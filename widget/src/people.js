/** How a person is drawn on a marker: initials and a colour of their own. */
import { shortHash } from "./util.js";

/** @param {string | null | undefined} name @returns {string} one or two letters, or "?" */
export function initials(name) {
  const words = String(name || "")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0])[0] || "";
  const last = words.length > 1 ? Array.from(words[words.length - 1])[0] || "" : "";
  return (first + last).toUpperCase();
}

/**
 * A stable colour per person (by id, else name), dark enough for white text on it.
 * @param {{id?: string, name?: string} | null | undefined} user
 * @returns {string} a CSS colour
 */
export function personColour(user) {
  const key = user?.id && user.id !== "me" ? user.id : user?.name || "";
  const hue = parseInt(shortHash(key), 16) % 360;
  return `hsl(${hue} 65% 28%)`;
}
