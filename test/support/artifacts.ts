import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Writes a file (making its folder) and returns its file:// URI. */
export function writeArtifact(file: string, content: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return pathToFileURL(file).href;
}

/**
 * Everything under `dir` without following symlinks: relative path → `file:<sha256>` or `link:<target>`
 * (or `dir`). Two equal trees mean nothing was created, deleted, changed or re-linked.
 */
export function fileTree(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  if (!existsSync(dir)) return tree;
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      const relative = path.relative(dir, full);
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) tree[relative] = `link:${readlinkSync(full)}`;
      else if (stats.isDirectory()) {
        tree[relative] = 'dir';
        walk(full);
      } else tree[relative] = `file:${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    }
  };
  walk(dir);
  return tree;
}

/** Files under the folders whose name marks a temporary file (a copy or restore in progress). */
export function tempFiles(...dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    Object.keys(fileTree(dir))
      .filter((relative) => /\.partial$|\.tmp$|~$/.test(relative))
      .map((relative) => path.join(dir, relative)),
  );
}

/** Regular files under `dir` (absolute paths). */
export function regularFiles(dir: string): string[] {
  return Object.entries(fileTree(dir))
    .filter(([, kind]) => kind.startsWith('file:'))
    .map(([relative]) => path.join(dir, relative));
}

/** The path of a file:// URI (plain ones, as the tests write them). */
export const pathOf = (uri: string) => decodeURIComponent(new URL(uri).pathname);
