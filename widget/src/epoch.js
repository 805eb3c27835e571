/**
 * Epochs name one history of a channel: "<8 hex generation>.<random>". A newer generation sorts
 * after every older one, so a late message of an older history can be told apart and ignored.
 */

const SHAPE = /^([0-9a-f]{8})\.\S+$/i;

/** @param {unknown} epoch @returns {number | null} the generation, when the epoch has one */
function generation(epoch) {
  if (typeof epoch !== "string") return null;
  const match = SHAPE.exec(epoch);
  return match ? parseInt(match[1], 16) : null;
}

/**
 * Whether `candidate` names a history older than `current` (so a message naming it is late).
 * Epochs without a readable generation are never called older: they are only "different".
 * @param {unknown} candidate
 * @param {unknown} current
 */
export function isOlderEpoch(candidate, current) {
  const a = generation(candidate);
  const b = generation(current);
  return a !== null && b !== null && a < b;
}

/**
 * Whether a message naming `candidate` belongs to another history than `current` (when both
 * are known).
 * @param {unknown} candidate
 * @param {unknown} current
 */
export function isOtherEpoch(candidate, current) {
  return (
    candidate !== undefined && candidate !== null && current !== null && candidate !== current
  );
}
