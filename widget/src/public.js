/**
 * The public `ImageChat(target, config)` function. A page that loads the widget twice (a
 * classic tag and the module, or two tags) keeps the first copy, so it still has exactly one
 * live connection and one set of own broadcastIds.
 */
import { CATALOGUES } from "./i18n/index.js";
import { setAssetBase } from "./stylesheet.js";
import { Widget } from "./widget.js";

/** @typedef {import("./types.js").WidgetConfig} WidgetConfig */
/**
 * @typedef {{destroy(): void, update(partial: Partial<WidgetConfig>): void, readonly urlId: string}} Handle
 * @typedef {((target: Element | string, config: Partial<WidgetConfig>) => Handle) & {
 *   __imagechat: true, version: string, locales: readonly string[],
 *   setAssetBase(base: string): void
 * }} ImageChatFunction
 */

/**
 * Attaches an Image Chat to an image.
 * @param {Element | string} target an <img>, an element containing one, or a selector
 * @param {Partial<WidgetConfig>} config
 * @returns {Handle}
 */
function ImageChat(target, config) {
  const widget = new Widget(target, config);
  return {
    destroy: () => widget.destroy(),
    update: (partial) => widget.update(partial),
    get urlId() {
      return widget.config.urlId;
    },
  };
}

Object.defineProperties(ImageChat, {
  __imagechat: { value: true },
  version: { value: "2", enumerable: true },
  locales: { value: Object.freeze(Object.keys(CATALOGUES)), enumerable: true },
  /** Lets an entry point tell where the stylesheet is (script URL or import.meta.url). */
  setAssetBase: { value: setAssetBase },
});

/**
 * Defines `globalThis.ImageChat` unless an earlier copy did, and returns the one in use.
 * @param {string} assetBase the folder the widget's files are served from ("" if unknown)
 * @returns {ImageChatFunction}
 */
export function install(assetBase) {
  const scope = /** @type {any} */ (globalThis);
  if (!(scope.ImageChat && scope.ImageChat.__imagechat)) scope.ImageChat = ImageChat;
  const active = /** @type {ImageChatFunction} */ (scope.ImageChat);
  if (assetBase) active.setAssetBase(assetBase);
  return active;
}
