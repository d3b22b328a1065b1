/** Raw bytes per chunk: base64 in a JSON envelope stays well under NATS's 1 MB payload. */
export const CHUNK_BYTES = 512 * 1024;
