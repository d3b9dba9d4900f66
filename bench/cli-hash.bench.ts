/**
 * The CLI's artifact hashing against `sha256sum` (coreutils), the floor any pipeline already has.
 * Usage: npm run bench:cli-hash -- [--size-mib 1024] [--runs 3] [--no-build]
 *
 * Writes a file of `size-mib` MiB of random bytes in a temporary folder, reads it once so that both
 * contenders hash from the page cache, then alternates `sha256sum FILE` and
 * `model-registry hash FILE` (the built CLI as a process: the same streaming code that
 * `versions register` runs) `runs` times each and compares the best times. Memory: the CLI's peak
 * RSS (VmHWM, sampled from /proc every 10 ms) hashing the large file, minus its peak hashing a
 * one-byte file (the same process doing everything but the reading).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { flag, numberFlag } from './lib/args';
import { mb, printTable, saveResults } from './lib/report';
import { ROOT } from './lib/service';

const SIZE_MIB = numberFlag('size-mib', 1024);
const RUNS = numberFlag('runs', 3);
const CLI = path.join(ROOT, 'clients', 'cli', 'bin', 'model-registry.js');

interface Timed {
  ms: number;
  stdout: string;
  peakRss: number;
}

/** Runs a command, timing it and sampling its peak resident memory (VmHWM) until it exits. */
function timed(command: string, args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peakRss = 0;
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakRss = Math.max(peakRss, Number(match[1]) * 1024);
      } catch {
        // Exited between two samples.
      }
    };
    const sampler = setInterval(sample, 10);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}`));
      else resolve({ ms, stdout, peakRss });
    });
  });
}

function writeRandomFile(file: string, mib: number): void {
  const chunk = randomBytes(16 * 1024 * 1024);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < mib * 1024 * 1024; written += chunk.length) {
      writeSync(fd, chunk, 0, Math.min(chunk.length, mib * 1024 * 1024 - written));
    }
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  if (flag('no-build') === undefined) {
    execFileSync('npm', ['run', '-s', 'lint:cli'], { cwd: ROOT, stdio: 'inherit' });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-hash-bench-'));
  try {
    const large = path.join(dir, 'model.safetensors');
    const tiny = path.join(dir, 'tiny.bin');
    console.log(`writing ${SIZE_MIB} MiB to ${large}`);
    writeRandomFile(large, SIZE_MIB);
    writeRandomFile(tiny, 0);
    await new Promise<void>((resolve, reject) => createReadStream(large).on('data', () => undefined).on('end', resolve).on('error', reject));

    const floor: Timed[] = [];
    const cli: Timed[] = [];
    for (let run = 0; run < RUNS; run++) {
      floor.push(await timed('sha256sum', [large]));
      cli.push(await timed(process.execPath, [CLI, 'hash', large]));
    }
    const baseline = await timed(process.execPath, [CLI, 'hash', tiny]);
    const expected = floor[0]!.stdout.split(' ')[0];
    if (cli.some((result) => result.stdout.split(' ')[0] !== expected)) throw new Error(`the CLI's hash differs from sha256sum's (${expected})`);

    const best = (results: Timed[]) => Math.min(...results.map((result) => result.ms));
    const bytes = SIZE_MIB * 1024 * 1024;
    const speed = (ms: number) => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`;
    const ratio = best(floor) / best(cli);
    const peak = Math.max(...cli.map((result) => result.peakRss));
    const growth = peak - baseline.peakRss;
    const rows = [
      { contender: 'sha256sum (floor)', best: `${best(floor).toFixed(0)} ms`, speed: speed(best(floor)), 'of floor': '100 %', 'peak RSS': mb(Math.max(...floor.map((r) => r.peakRss))) },
      { contender: 'model-registry hash', best: `${best(cli).toFixed(0)} ms`, speed: speed(best(cli)), 'of floor': `${(ratio * 100).toFixed(0)} %`, 'peak RSS': mb(peak) },
    ];
    printTable(`Hashing ${SIZE_MIB} MiB (best of ${RUNS}; runs: sha256sum ${floor.map((r) => r.ms.toFixed(0)).join(', ')} ms; CLI ${cli.map((r) => r.ms.toFixed(0)).join(', ')} ms)`, rows);
    console.log(`\nRSS growth: ${mb(growth)} (peak ${mb(peak)} hashing ${SIZE_MIB} MiB, ${mb(baseline.peakRss)} hashing 1 byte)`);
    console.log(`speed ${(ratio * 100).toFixed(0)} % of sha256sum (target ≥ 90 %): ${ratio >= 0.9 ? 'met' : 'NOT met'}; RSS growth ${mb(growth)} (target ≤ 50 MB): ${growth <= 50 * 1024 * 1024 ? 'met' : 'NOT met'}`);
    console.log(`results: ${saveResults('cli-hash', { size_mib: SIZE_MIB, runs: RUNS, floor_ms: floor.map((r) => r.ms), cli_ms: cli.map((r) => r.ms), ratio, peak_rss: peak, baseline_rss: baseline.peakRss, growth })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
