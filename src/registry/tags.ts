import * as core from '@actions/core';
import { errorText } from '../util/errors.js';
import type { Timings } from '../util/timings.js';
import type { Registry } from './client.js';
import { addTags } from './images.js';

// The environment's moving tags (latest, pr-N) follow the image only once it is proven: rolled out and
// smoke-checked.

/**
 * Points `tags` at the image (a copy of its manifest, registry/images.ts). Resolves, never rejects, to what
 * to log about it: said when the caller's log group is closed.
 */
export async function moveTags(
  registry: Registry,
  image: string,
  tags: string[],
  timings: Timings,
): Promise<() => void> {
  if (tags.length === 0) return () => {};
  const list = tags.join(', ');
  try {
    await timings.time('move tags', () => addTags(registry, image, tags));
    return () => core.info(`${list} -> ${image}`);
  } catch (error) {
    // the release is live and proven; only the convenience tag lags behind
    return () =>
      core.warning(`the deploy succeeded, but ${list} could not be moved to ${image}: ${errorText(error)}`);
  }
}
