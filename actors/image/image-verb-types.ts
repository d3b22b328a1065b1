/** What an image verb is: a step on one image row, and what it leaves behind. */
import type { ImageRow } from '../../runtime/db/entities/index.js';

export interface VerbResult {
  /** The row as it now is (undefined: re-read it on the next message). */
  row: ImageRow | undefined;
  reply: unknown;
  /** Publish `<root>.evt.image.<id>.<event>` with the reply. */
  event?: string;
}

export type ImageVerb = (row: ImageRow, body: Record<string, unknown>) => Promise<VerbResult>;
