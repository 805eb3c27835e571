/**
 * One marker: an opaque pin with the starter's avatar or initials in their colour, a
 * high-contrast count, a distinct resolved look; its label for screen readers.
 */
import { el, isSafeImageUrl } from "../dom.js";
import { initials, personColour } from "../people.js";

/** @typedef {import("../types.js").Chat} Chat */

/** @returns {HTMLButtonElement} an empty marker, filled by updateMarker */
export function createMarker() {
  const button = /** @type {HTMLButtonElement} */ (
    el("button", { type: "button", class: "imagechat-marker" }, [
      el("span", { class: "imagechat-marker-face", "aria-hidden": "true" }),
      el("span", { class: "imagechat-marker-count", "aria-hidden": "true" }),
    ])
  );
  return button;
}

/**
 * @param {HTMLButtonElement} button
 * @param {Chat} chat
 * @param {{open: boolean, movable: boolean, label: string}} state
 */
export function updateMarker(button, chat, state) {
  button.dataset.chatId = chat.id;
  button.style.left = `${chat.x}%`;
  button.style.top = `${chat.y}%`;
  button.style.setProperty("--imagechat-pin-colour", personColour(chat.author));
  button.classList.toggle("imagechat-marker--resolved", Boolean(chat.resolved));
  button.classList.toggle("imagechat-marker--pending", Boolean(chat.pending));
  button.classList.toggle("imagechat-marker--open", state.open);
  button.classList.toggle("imagechat-marker--movable", state.movable);
  button.setAttribute("aria-expanded", state.open ? "true" : "false");
  button.setAttribute("aria-label", state.label);
  const face = /** @type {HTMLElement} */ (button.querySelector(".imagechat-marker-face"));
  const avatarUrl = chat.author?.avatarUrl;
  const want = isSafeImageUrl(avatarUrl) ? `img:${avatarUrl}` : `text:${initials(chat.author?.name)}`;
  if (face.dataset.shows !== want) {
    face.dataset.shows = want;
    if (want.startsWith("img:")) {
      face.replaceChildren(
        el("img", {
          class: "imagechat-marker-avatar",
          src: avatarUrl,
          alt: "",
          referrerpolicy: "no-referrer",
          draggable: "false",
        }),
      );
    } else {
      face.textContent = want.slice(5);
    }
  }
  const count = /** @type {HTMLElement} */ (button.querySelector(".imagechat-marker-count"));
  count.textContent = String(Number(chat.commentCount) || 0);
}
