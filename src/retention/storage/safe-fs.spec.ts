import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Directory, UnsafePathError } from './safe-fs';

describe(Directory.name, () => {
  let base: string;
  let root: string;
  let victims: string;

  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'mr-safe-fs-'));
    root = path.join(base, 'root');
    victims = path.join(base, 'victims');
    mkdirSync(path.join(root, 'a'), { recursive: true });
    mkdirSync(victims);
    writeFileSync(path.join(root, 'a', 'f.bin'), 'inside');
    writeFileSync(path.join(victims, 'f.bin'), 'victim');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('refuses a symlinked folder on the way and a symlinked file at the end', async () => {
    symlinkSync(victims, path.join(root, 'link'));
    symlinkSync(path.join(victims, 'f.bin'), path.join(root, 'a', 'l.bin'));
    await expect(Directory.walk(root, ['link'])).rejects.toBeInstanceOf(UnsafePathError);
    await expect(Directory.walk(root, ['link'], { create: true })).rejects.toBeInstanceOf(UnsafePathError);
    const dir = await Directory.walk(root, ['a']);
    try {
      await expect(dir.openFile('l.bin')).rejects.toBeInstanceOf(UnsafePathError);
      const { handle, identity } = await dir.openFile('f.bin');
      expect(identity.size).toBe(6);
      await handle.close();
    } finally {
      await dir.close();
    }
  });

  it('refuses a FIFO without blocking on it', async () => {
    execFileSync('mkfifo', [path.join(root, 'a', 'pipe')]);
    const dir = await Directory.walk(root, ['a']);
    try {
      await expect(dir.openFile('pipe')).rejects.toThrow(/not a regular file/);
    } finally {
      await dir.close();
    }
  });

  it('keeps working in the folder it checked when a path component is swapped for a symlink afterwards (no TOCTOU)', async () => {
    const dir = await Directory.walk(root, ['a']);
    try {
      const { handle } = await dir.openFile('f.bin');
      // The attacker swaps root/a for a symlink to the victims' folder.
      renameSync(path.join(root, 'a'), path.join(root, 'moved'));
      symlinkSync(victims, path.join(root, 'a'));

      await dir.copyInto(handle, 'copy.tmp');
      await handle.close();
      expect(readFileSync(path.join(root, 'moved', 'copy.tmp'), 'utf8')).toBe('inside');
      expect(existsSync(path.join(victims, 'copy.tmp'))).toBe(false);

      expect(await dir.remove('f.bin')).toBe(true);
      expect(existsSync(path.join(root, 'moved', 'f.bin'))).toBe(false);
      expect(readFileSync(path.join(victims, 'f.bin'), 'utf8')).toBe('victim');
    } finally {
      await dir.close();
    }
    await expect(Directory.walk(root, ['a'])).rejects.toBeInstanceOf(UnsafePathError);
  });

  it('links only the file it checked: a name swapped between opening and linking is undone', async () => {
    const source = await Directory.walk(root, ['a']);
    const target = await Directory.walk(base, [], {});
    try {
      const { handle, identity } = await source.openFile('f.bin');
      await handle.close();
      renameSync(path.join(root, 'a', 'f.bin'), path.join(root, 'a', 'old.bin'));
      symlinkSync(path.join(victims, 'f.bin'), path.join(root, 'a', 'f.bin'));
      await expect(target.linkFrom(source, 'f.bin', identity, 'linked.bin')).rejects.toBeInstanceOf(UnsafePathError);
      expect(existsSync(path.join(base, 'linked.bin'))).toBe(false);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('never creates through an existing name: link fails on a file or a dangling symlink', async () => {
    const dir = await Directory.walk(root, ['a']);
    try {
      symlinkSync(path.join(victims, 'new.bin'), path.join(root, 'a', 'dangling'));
      await expect(dir.link('f.bin', 'dangling')).rejects.toMatchObject({ code: 'EEXIST' });
      expect(existsSync(path.join(victims, 'new.bin'))).toBe(false);
    } finally {
      await dir.close();
    }
  });
});
