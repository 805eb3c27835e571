/**
 * Which image a widget is about. By default the page's origin and path plus the image's `src`;
 * an image without a usable `src` yet (a lazy loader's placeholder) has no identity until it
 * gets one, and a `src` change makes it another image.
 */
import { shortHash } from "./util.js";

/**
 * @param {HTMLImageElement} img
 * @returns {string | null} the derived urlId, or null while the image has no real source
 */
export function deriveUrlId(img) {
  // The src attribute, not currentSrc: a <picture>/srcset may pick different files per device,
  // and every device must land in the same conversation.
  const src = img.getAttribute("src") ? img.src : img.currentSrc || "";
  // Lazy loaders park a tiny inline placeholder in src: that is no image to talk about yet.
  if (!src || /^(data|blob|about):/i.test(src)) return null;
  const id = `${location.origin}${location.pathname}|${src}`;
  return id.length <= 512 ? id : `${id.slice(0, 500)}#${shortHash(id)}`;
}

/**
 * Calls `onChange` whenever the image's source attributes change.
 * @param {HTMLImageElement} img
 * @param {() => void} onChange
 * @returns {() => void} what stops watching
 */
export function watchSource(img, onChange) {
  const observer = new MutationObserver(onChange);
  observer.observe(img, { attributes: true, attributeFilter: ["src", "srcset"] });
  // A srcset-only image learns its currentSrc when it loads.
  img.addEventListener("load", onChange);
  return () => {
    observer.disconnect();
    img.removeEventListener("load", onChange);
  };
}
