/**
 * How big each remote video is on this screen: a ResizeObserver on every
 * remote tile's video, reporting its height in device pixels (what the
 * sender should encode for; encoding.js).
 * @module
 */

/**
 * Watch the grid's remote tiles, now and as they come and go.
 * @param {Document} doc
 * @param {(id: string, height: number) => void} onHeight
 * @returns {() => void} stops watching
 */
export function watchTileSizes(doc, onHeight) {
  const grid = doc.getElementById("grid");
  const view = doc.defaultView;
  if (!grid || !view || !("ResizeObserver" in view)) return () => {};
  const resized = new view.ResizeObserver((entries) => {
    for (const entry of entries) {
      const tile = /** @type {HTMLElement|null} */ (entry.target.closest(".tile"));
      const id = tile?.dataset.peerId;
      if (!id) continue;
      const box = entry.devicePixelContentBoxSize?.[0];
      const height = box ? box.blockSize : entry.contentRect.height * view.devicePixelRatio;
      onHeight(id, Math.round(height));
    }
  });
  /** @param {Node} node */
  const watch = (node) => {
    if (!(node instanceof view.HTMLElement)) return;
    if (!node.matches(".tile:not([data-self])")) return;
    const video = node.querySelector(".tile__video");
    if (video) resized.observe(video, { box: "device-pixel-content-box" });
  };
  for (const tile of grid.children) watch(tile);
  const added = new view.MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) watch(node);
      for (const node of record.removedNodes) {
        const video = node instanceof view.HTMLElement && node.querySelector(".tile__video");
        if (video) resized.unobserve(video);
      }
    }
  });
  added.observe(grid, { childList: true });
  return () => {
    added.disconnect();
    resized.disconnect();
  };
}
