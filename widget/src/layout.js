/**
 * Where things are on screen: the picture as actually drawn inside its <img> (object-fit and
 * friends), and where a floating window goes next to a marker (or full-screen on a phone).
 */

/** Below this viewport width the thread and composer fill the screen. */
export const FULLSCREEN_BELOW_PX = 768;

/** @returns {boolean} whether floating windows go full-screen now */
export function isNarrowViewport() {
  const vw = document.documentElement.clientWidth || window.innerWidth;
  return vw < FULLSCREEN_BELOW_PX;
}
/**
 * Parses a computed `object-position` ("50% 50%", "10px 0px") into pixel offsets.
 * @param {string} value
 * @param {number} freeX
 * @param {number} freeY
 */
function parseObjectPosition(value, freeX, freeY) {
  const parts = String(value || "50% 50%")
    .trim()
    .split(/\s+/);
  /** @param {string | undefined} part @param {number} free */
  const one = (part, free) => {
    if (!part) return free / 2;
    if (part.endsWith("%")) return (parseFloat(part) / 100) * free;
    if (part.endsWith("px")) return parseFloat(part);
    if (part === "left" || part === "top") return 0;
    if (part === "right" || part === "bottom") return free;
    return free / 2;
  };
  return [one(parts[0], freeX), one(parts[1] ?? parts[0], freeY)];
}

/**
 * Where the picture itself is drawn, in viewport pixels: the content box of the <img> minus
 * the letterbox that `object-fit: contain` (or scale-down / none / cover) leaves. Markers are
 * placed relative to this box so their percentages refer to the picture, not its frame.
 * `clip` says how much of the box falls outside the element (cover, none).
 * @param {HTMLImageElement} img
 */
export function renderedImageBox(img) {
  const rect = img.getBoundingClientRect();
  const style = getComputedStyle(img);
  const px = (/** @type {string} */ v) => parseFloat(v) || 0;
  const left = rect.left + px(style.borderLeftWidth) + px(style.paddingLeft);
  const top = rect.top + px(style.borderTopWidth) + px(style.paddingTop);
  const width = Math.max(
    0,
    rect.right - px(style.borderRightWidth) - px(style.paddingRight) - left,
  );
  const height = Math.max(
    0,
    rect.bottom - px(style.borderBottomWidth) - px(style.paddingBottom) - top,
  );
  const box = { left, top, width, height, clip: { top: 0, right: 0, bottom: 0, left: 0 } };
  const nw = img.naturalWidth;
  const nh = img.naturalHeight;
  const fit = style.objectFit;
  if (!nw || !nh || !width || !height || !fit || fit === "fill") return box;
  const sx = width / nw;
  const sy = height / nh;
  let scale;
  if (fit === "contain") scale = Math.min(sx, sy);
  else if (fit === "cover") scale = Math.max(sx, sy);
  else if (fit === "none") scale = 1;
  else if (fit === "scale-down") scale = Math.min(1, Math.min(sx, sy));
  else return box;
  const w = nw * scale;
  const h = nh * scale;
  const [offsetX, offsetY] = parseObjectPosition(style.objectPosition, width - w, height - h);
  const drawn = { left: left + offsetX, top: top + offsetY, width: w, height: h };
  return {
    ...drawn,
    clip: {
      left: Math.max(0, left - drawn.left),
      top: Math.max(0, top - drawn.top),
      right: Math.max(0, drawn.left + w - (left + width)),
      bottom: Math.max(0, drawn.top + h - (top + height)),
    },
  };
}

/**
 * Moves an absolutely positioned element so its border box lands on viewport (x, y). Works
 * whatever its containing block is, by correcting the current position by the measured error.
 * @param {HTMLElement} node
 * @param {number} x
 * @param {number} y
 */
export function placeAtViewport(node, x, y) {
  const current = node.getBoundingClientRect();
  const left = parseFloat(node.style.left) || 0;
  const top = parseFloat(node.style.top) || 0;
  node.style.left = `${left + (x - current.left)}px`;
  node.style.top = `${top + (y - current.top)}px`;
}

/**
 * Chooses where a floating window of size (w, h) goes next to an anchor rectangle: right,
 * left, below or above, the first side where it fits in the viewport; otherwise the side with
 * the most room, clamped into view.
 * @param {{left: number, top: number, right: number, bottom: number}} anchor
 * @param {number} w
 * @param {number} h
 */
export function chooseFloatingPosition(anchor, w, h) {
  const gap = 8;
  const margin = 8;
  const vw = document.documentElement.clientWidth || window.innerWidth;
  const vh = window.innerHeight;
  const midY = (anchor.top + anchor.bottom) / 2;
  const midX = (anchor.left + anchor.right) / 2;
  const clampX = (/** @type {number} */ x) => Math.max(margin, Math.min(x, vw - w - margin));
  const clampY = (/** @type {number} */ y) => Math.max(margin, Math.min(y, vh - h - margin));
  const candidates = [
    {
      side: "right",
      x: anchor.right + gap,
      y: clampY(midY - Math.min(h / 2, 40)),
      room: vw - anchor.right - gap - margin,
      need: w,
    },
    {
      side: "left",
      x: anchor.left - gap - w,
      y: clampY(midY - Math.min(h / 2, 40)),
      room: anchor.left - gap - margin,
      need: w,
    },
    {
      side: "below",
      x: clampX(midX - w / 2),
      y: anchor.bottom + gap,
      room: vh - anchor.bottom - gap - margin,
      need: h,
    },
    {
      side: "above",
      x: clampX(midX - w / 2),
      y: anchor.top - gap - h,
      room: anchor.top - gap - margin,
      need: h,
    },
  ];
  const fitting = candidates.find((c) => c.room >= c.need);
  if (fitting) return fitting;
  const best = candidates.reduce((a, b) => (b.room / b.need > a.room / a.need ? b : a));
  return { ...best, x: clampX(best.x), y: clampY(best.y) };
}

/**
 * Puts a floating window next to an anchor rectangle (viewport pixels), or full-screen when
 * the viewport is narrow.
 * @param {HTMLElement} node
 * @param {{left: number, top: number, right: number, bottom: number}} anchor
 * @returns {boolean} whether it went full-screen
 */
export function placeFloating(node, anchor) {
  const fullscreen = isNarrowViewport();
  node.classList.toggle("imagechat-floating--fullscreen", fullscreen);
  if (fullscreen) {
    node.style.left = "";
    node.style.top = "";
    return true;
  }
  if (!node.style.left) {
    node.style.left = "0px";
    node.style.top = "0px";
  }
  const size = node.getBoundingClientRect();
  const spot = chooseFloatingPosition(anchor, size.width || 300, size.height || 200);
  node.dataset.side = spot.side;
  placeAtViewport(node, spot.x, spot.y);
  return false;
}
