/** Entry of the ES module (`import ImageChat from ".../widget/imagechat.mjs"`). */
import { install } from "./public.js";

const ImageChat = install(new URL("./", import.meta.url).href);

export { ImageChat };
export default ImageChat;
