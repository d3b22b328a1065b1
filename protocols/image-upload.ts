/** Raw bytes per chunk: base64 in a JSON envelope stays well under NATS's 1 MB payload (hosts' chunks too). */
export { HOST_CHUNK_BYTES as CHUNK_BYTES } from './catalog/image-snapshot.js';
