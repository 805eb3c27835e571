/** Injects the widget's stylesheet once, from next to the script that loaded the widget. */
import { el } from "./dom.js";

/** Where the stylesheet lives, told by the entry point (classic script URL or import.meta). */
let assetBase = "";

/** @param {string} base a URL ending in "/" (the folder of the widget's files) */
export function setAssetBase(base) {
  if (!assetBase) assetBase = base;
}

/** @param {{stylesheet?: string | false, server: string}} config */
export function ensureStylesheet(config) {
  if (config.stylesheet === false) return;
  let href = config.stylesheet || "";
  if (!href && assetBase) href = new URL("imagechat.css", assetBase).href;
  if (!href && config.server) href = `${config.server}/widget/imagechat.css`;
  if (!href) return;
  const absolute = new URL(href, location.href).href;
  for (const link of document.querySelectorAll("link[data-imagechat-css]")) {
    if (/** @type {HTMLLinkElement} */ (link).href === absolute) return;
  }
  document.head.append(el("link", { rel: "stylesheet", href, "data-imagechat-css": true }));
}
