/**
 * Markers closer than their own size merge into one count badge. Pure: positions in, groups out.
 */

/**
 * @template {{id: string, x: number, y: number}} T
 * @param {T[]} items in the order they should be considered (oldest first)
 * @param {number} width displayed picture width, px
 * @param {number} height displayed picture height, px
 * @param {number} size marker size, px: centres closer than this overlap
 * @returns {{x: number, y: number, items: T[]}[]} groups; x and y in percent (their mean)
 */
export function clusterMarkers(items, width, height, size) {
  /** @type {{x: number, y: number, px: number, py: number, items: T[]}[]} */
  const groups = [];
  for (const item of items) {
    const px = (item.x / 100) * width;
    const py = (item.y / 100) * height;
    const near =
      size > 0 ? groups.find((g) => Math.hypot(g.px - px, g.py - py) < size) : undefined;
    if (near) {
      near.items.push(item);
      const n = near.items.length;
      near.px += (px - near.px) / n;
      near.py += (py - near.py) / n;
      near.x += (item.x - near.x) / n;
      near.y += (item.y - near.y) / n;
    } else {
      groups.push({ x: item.x, y: item.y, px, py, items: [item] });
    }
  }
  return groups.map(({ x, y, items: members }) => ({ x, y, items: members }));
}
