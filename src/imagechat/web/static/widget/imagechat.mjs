/**
 * ES module entry of the imagechat widget, for `import ImageChat from ".../widget/imagechat.mjs"`.
 *
 * The widget itself is one classic-script-compatible file that defines `globalThis.ImageChat`;
 * importing it here for its side effect keeps a single implementation (and a single WebSocket
 * per page, even if a page mixes a classic tag and this module).
 */
import "./imagechat.js";

/** @type {any} */
const ImageChat = /** @type {any} */ (globalThis).ImageChat;

// A module has no document.currentScript; tell the widget where its stylesheet lives.
ImageChat.setAssetBase(new URL("./", import.meta.url).href);

export { ImageChat };
export default ImageChat;
