/**
 * The `ImageFetcher` a host's driver downloads images with (hosts/driver.ts `attach`): the verified
 * download of image-source.ts over the host's own `host-download` subjects, inside the call's
 * deadline and signal, and failing with `DriverError`s only, so a bad or missing image fails the
 * build with a fault instead of crashing the host actor.
 */
import { DriverError, type CallOptions, type ImageExpectation, type ImageFetcher } from '../../hosts/driver.js';
import { NotFoundError, NovactError, TimeoutError } from '../../protocols/errors.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { fetchImage, ImageIntegrityError } from './image-source.js';

/** A failed download in the driver's terms: integrity and refusals fail, a lost bus may be retried. */
export function downloadError(err: unknown, imageId: string): DriverError {
  if (err instanceof DriverError) return err;
  const what = `download of image ${imageId}`;
  if (err instanceof ImageIntegrityError) return new DriverError('failed', err.message, false);
  if (err instanceof NotFoundError) return new DriverError('not-found', `${what}: ${err.message}`);
  if (err instanceof TimeoutError) return new DriverError('timeout', `${what}: ${err.message}`, true);
  if (err instanceof NovactError) return new DriverError('failed', `${what}: ${err.message}`, err.retryable);
  return new DriverError('failed', `${what}: ${err instanceof Error ? err.message : String(err)}`, false);
}

export function hostImageFetcher(bridge: Bridge, subjects: Subjects, host: string, clock: Clock): ImageFetcher {
  return {
    fetch(imageId: string, onChunk: (chunk: Uint8Array) => void | Promise<void>, expected?: ImageExpectation, opts: CallOptions = {}) {
      const deadlineMs = opts.deadlineMs;
      const aborted = () => new DriverError('aborted', `download of image ${imageId} aborted`, true);
      if (opts.signal?.aborted) return Promise.reject(aborted());
      let stopped: DriverError | undefined;
      // Stops the download between chunks once the deadline passed or the caller gave up.
      const stop = (e: DriverError) => { stopped ??= e; return stopped; };
      const check = () => { if (stopped) throw stopped; };
      const download = fetchImage(bridge, subjects, host, imageId, async (chunk) => { check(); await onChunk(chunk); check(); }, {
        ...(expected ? { expected } : {}),
        timeoutMs: Math.max(1, Math.min(bridge.defaultTimeoutMs, deadlineMs ?? bridge.defaultTimeoutMs)),
      }).then((got) => ({ sizeBytes: got.size }));
      if (deadlineMs === undefined && !opts.signal) return download.catch((err: unknown) => { throw downloadError(err, imageId); });
      return new Promise<{ sizeBytes: number }>((resolve, reject) => {
        const timer = deadlineMs === undefined ? undefined
          : clock.setTimeout(() => reject(stop(new DriverError('timeout', `download of image ${imageId} passed its deadline`, true))), deadlineMs);
        const onAbort = () => reject(stop(aborted()));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        download.then(resolve, (err: unknown) => reject(downloadError(err, imageId))).finally(() => {
          timer?.cancel();
          opts.signal?.removeEventListener('abort', onAbort);
        });
      });
    },
  };
}
