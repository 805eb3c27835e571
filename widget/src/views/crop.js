/**
 * On a phone the thread covers the picture, so it shows the part of the image around its
 * marker at the top: the same picture, enlarged, with the spot in the middle.
 */
import { el } from "../dom.js";

/** How much larger than the screen's width the picture is drawn in the crop. */
const ZOOM = 1.6;

/**
 * @param {HTMLImageElement} img
 * @param {number} x percent across
 * @param {number} y percent down
 * @param {string} label
 * @returns {HTMLElement}
 */
export function imageCrop(img, x, y, label) {
  const src = img.currentSrc || img.src;
  const picture = /** @type {HTMLImageElement} */ (
    el("img", { class: "imagechat-crop-image", src, alt: "", draggable: "false" })
  );
  const frame = el("div", { class: "imagechat-crop", role: "img", "aria-label": label }, [
    picture,
    el("span", { class: "imagechat-crop-pin", "aria-hidden": "true" }),
  ]);
  const ratio = img.naturalWidth && img.naturalHeight ? img.naturalHeight / img.naturalWidth : 0.66;
  // Sizes in percent of the frame's width, so it needs no measuring; the frame's height is
  // fixed by CSS (--imagechat-crop-height), read here to centre the spot.
  picture.style.width = `${ZOOM * 100}%`;
  picture.style.left = `calc(50% - ${(ZOOM * x).toFixed(3)}%)`;
  picture.style.top = `calc(var(--imagechat-crop-height, 180px) / 2 - ${(ZOOM * ratio * y).toFixed(3)}cqw)`;
  return frame;
}
