import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface FileDigest {
  /** SHA-256, 64 lowercase hex digits (the registry's `hash`). */
  hash: string;
  /** Bytes hashed (the registry's `size_bytes`). */
  size: number;
}

/** One read buffer, reused: memory stays constant whatever the file's size. */
const CHUNK = 4 * 1024 * 1024;

/**
 * Streams a file through SHA-256 in constant memory. `onProgress` is called after each chunk with
 * the bytes read so far and the size the file had when opened.
 */
export async function hashFile(path: string, onProgress?: (read: number, total: number) => void): Promise<FileDigest> {
  const handle = await open(path, 'r');
  try {
    const { size: total } = await handle.stat();
    const digest = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      digest.update(bytesRead === CHUNK ? buffer : buffer.subarray(0, bytesRead));
      size += bytesRead;
      onProgress?.(size, total);
    }
    return { hash: digest.digest('hex'), size };
  } finally {
    await handle.close();
  }
}

/** A one-line progress bar on a terminal (stderr); nothing at all when stderr is not a TTY. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update(read: number, total: number): void; done(): void } {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let lastDraw = 0;
  let drawn = false;
  const draw = (read: number, total: number) => {
    const width = 30;
    const ratio = total > 0 ? Math.min(1, read / total) : 1;
    const filled = Math.round(ratio * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(read)} / ${formatBytes(total)}\u001b[K`);
    drawn = true;
  };
  return {
    update(read, total) {
      const now = Date.now();
      if (now - lastDraw < 100 && read < total) return;
      lastDraw = now;
      draw(read, total);
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
