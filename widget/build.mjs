// Builds the two files a page loads from widget/src: the classic script (imagechat.js, an IIFE
// that defines window.ImageChat) and the ES module (imagechat.mjs). Both are committed, so
// running the server needs no build step; tests/widget/test_bundles_fresh.py fails when they are
// stale. Usage: node widget/build.mjs [outdir]   (default: the server's static widget folder)
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] || path.join(root, "src/imagechat/web/static/widget"));
const banner =
  "/* imagechat widget, built by widget/build.mjs from widget/src: edit those, not this file. */";

/** @type {import("esbuild").BuildOptions} */
const common = {
  absWorkingDir: root,
  bundle: true,
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  banner: { js: banner },
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: ["widget/src/classic.js"],
  format: "iife",
  outfile: path.join(outdir, "imagechat.js"),
});
await build({
  ...common,
  entryPoints: ["widget/src/module.js"],
  format: "esm",
  outfile: path.join(outdir, "imagechat.mjs"),
});
