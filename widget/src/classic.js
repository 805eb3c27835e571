/** Entry of the classic script (`<script src=".../widget/imagechat.js">`): defines ImageChat. */
import { install } from "./public.js";

const script =
  typeof document !== "undefined" && document.currentScript && "src" in document.currentScript
    ? /** @type {HTMLScriptElement} */ (document.currentScript).src
    : "";
install(script ? new URL("./", script).href : "");
