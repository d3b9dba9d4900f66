import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { authEnv, bearer, BOOTSTRAP_KEY, createKey } from './support/auth';
import { freePort } from './support/service-process';
import { createTestApp, type TestApp } from './support/test-app';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'clients', 'cli', 'bin', 'model-registry.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built CLI as a pipeline would: a separate process, only the environment it is given. */
function cli(args: string[], env: Record<string, string> = {}, onStdout?: (text: string) => void): { done: Promise<Run>; kill(): void } {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
  return { done, kill: () => child.kill('SIGTERM') };
}

/**
 * The `model-registry` CLI (clients/cli), built as `npm ci` builds it, run as a subprocess against the
 * real service with authentication on, the way a CI pipeline drives it.
 */
describe('model-registry CLI', () => {
  let sut: TestApp;
  let dir: string;
  let env: Record<string, string>;
  const unique = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}`;
  const run = (args: string[], extra: Record<string, string> = {}) => cli(args, { ...env, ...extra }).done;

  beforeAll(async () => {
    // Build the client and the CLI exactly as the repository's prepare script does.
    await promisify(execFile)('npm', ['run', '-s', 'lint:cli'], { cwd: ROOT });
    sut = await createTestApp('cli', { env: authEnv() });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    const key = await createKey(sut.http, { name: 'pipeline', scopes: ['registry:read', 'registry:write', 'registry:manage'] });
    env = { MODEL_REGISTRY_URL: await sut.app.getUrl(), MODEL_REGISTRY_API_KEY: key.key };
    dir = await mkdtemp(path.join(tmpdir(), 'cli-e2e-'));
  }, 120_000);
  afterAll(async () => {
    await sut?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function artifact(name: string, content: string | Buffer): Promise<{ file: string; sha256: string }> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return { file, sha256: createHash('sha256').update(content).digest('hex') };
  }

  it('registers a file (creating the model), and registering it again exits 0 with the same version', async () => {
    const model = unique('cli-reg');
    const { file, sha256 } = await artifact('model.safetensors', Buffer.alloc(5 * 1024 * 1024 + 7, 'w'));
    const args = ['versions', 'register', '--model', model, '--version', '1.4.2', '--artifact', file, '--eval-score', '0.91', '--cost-per-1k', '0.002'];
    const more = ['--framework', 'pytorch', '--model-type', 'llm', '--region', 'us-east-1', '--label', 'team=search', '--label', 'stage=ga', '--source', 'https://ci.example.com/runs/42'];

    const first = await run([...args, ...more, '--create-model', '--task', 'generation', '--json']);
    expect(first).toMatchObject({ code: 0 });
    const version = JSON.parse(first.stdout);
    expect(version).toMatchObject({
      version: '1.4.2',
      hash: sha256,
      size_bytes: 5 * 1024 * 1024 + 7,
      artifact_uri: pathToFileURL(file).href,
      eval_score: 0.91,
      cost_per_1k: 0.002,
      framework: 'pytorch',
      model_type: 'llm',
      region: 'us-east-1',
      labels: { team: 'search', stage: 'ga' },
      source: 'https://ci.example.com/runs/42',
    });
    // --json is exactly the API's representation.
    expect(version).toEqual((await sut.http.get(`/versions/${version.id}`).set(bearer(BOOTSTRAP_KEY))).body);
    expect(first.stderr).toContain(`created model ${model}`);

    const again = await run([...args, ...more, '--create-model', '--task', 'generation', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).id).toBe(version.id);
    expect(again.stderr).toContain('already registered');

    // Human output: a compact table naming the same version.
    const human = await run(args);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+MODEL\s+VERSION\s+HASH/);
    expect(human.stdout).toContain(`${version.id}  `);
    expect(human.stdout).toContain(sha256.slice(0, 12));
    const { rows } = await sut.db.query('SELECT count(*)::int AS n FROM model_versions WHERE model_id = $1', [version.model_id]);
    expect(rows[0].n).toBe(1);
  });

  it('the same version with another file exits 1 naming the clash (the problem JSON with --json); nothing changes', async () => {
    const model = unique('cli-clash');
    const original = await artifact('a.bin', 'first weights');
    const other = await artifact('b.bin', 'other weights');
    expect((await run(['versions', 'register', '--model', model, '--version', '2.0.0', '--artifact', original.file, '--create-model', '--task', 'chat'])).code).toBe(0);

    const clash = await run(['versions', 'register', '--model', model, '--version', '2.0.0', '--artifact', other.file]);
    expect(clash.code).toBe(1);
    expect(clash.stdout).toBe('');
    expect(clash.stderr).toMatch(/Conflict \(409\): Model \d+ already has version 2\.0\.0 \(id \d+\) with a different hash\./);

    const json = await run(['versions', 'register', '--model', model, '--version', '2.0.0', '--artifact', other.file, '--json']);
    expect(json.code).toBe(1);
    const problem = JSON.parse(json.stdout);
    expect(problem).toMatchObject({ status: 409, code: 'conflict', title: 'Conflict' });
    expect(problem.existing_version_id).toEqual(expect.any(Number));
    const stored = await sut.db.query('SELECT hash FROM model_versions WHERE id = $1', [problem.existing_version_id]);
    expect(stored.rows[0].hash).toBe(original.sha256);
  });

  it('binds, promotes (plain and guarded), resolves, lists and reads, with --json parsed as the API answers', async () => {
    const model = unique('cli-flow');
    const v1 = await artifact('v1.bin', 'v1');
    const v2 = await artifact('v2.bin', 'v2');
    for (const [version, file] of [
      ['1.4.1', v1.file],
      ['1.4.2', v2.file],
    ]) {
      expect((await run(['versions', 'register', '--model', model, '--version', version, '--artifact', file, '--create-model', '--task', 'generation'])).code).toBe(0);
      const bound = await run(['bindings', 'create', '--model', model, '--version', version, '--provider', 'openai', '--provider-model-id', `gpt-${version}`, '--capability', 'chat,tools', '--json']);
      expect(bound.code).toBe(0);
      expect(JSON.parse(bound.stdout)).toMatchObject({ provider: 'openai', status: 'active', capabilities: ['chat', 'tools'] });
    }

    const promoted = await run(['promote', model, '--version', '1.4.1', '--alias', 'production', '--json']);
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ alias: 'production', version: '1.4.1' });

    // Guarded: refused when the alias is not where the pipeline thinks, and nothing moves.
    const wrong = await run(['promote', model, '--version', '1.4.2', '--alias', 'production', '--if-current-version', '1.4.0']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('points at 1.4.1, not 1.4.0');
    const guarded = await run(['promote', model, '--version', '1.4.2', '--alias', 'production', '--if-current-version', '1.4.1', '--json']);
    expect(guarded.code).toBe(0);
    expect(JSON.parse(guarded.stdout).version).toBe('1.4.2');

    const resolved = await run(['resolve', model, '--json']);
    expect(resolved.code).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ resolved_by: 'alias', alias: 'production', version: { version: '1.4.2', hash: v2.sha256 } });
    const ranged = await run(['resolve', model, '--version', '~1.4.0', '--alias', 'production']);
    expect(ranged.code).toBe(1);
    expect(ranged.stderr).toContain('(400)');
    const byRange = await run(['resolve', model, '--version', '<1.4.2', '--capability', 'tools', '--json']);
    expect(JSON.parse(byRange.stdout)).toMatchObject({ resolved_by: 'range', version: { version: '1.4.1' } });
    const human = await run(['resolve', model]);
    expect(human.stdout).toMatch(/version\s+1\.4\.2/);

    const modelJson = JSON.parse((await run(['models', 'get', model, '--json'])).stdout);
    const versions = JSON.parse((await run(['versions', 'list', '--model', model, '--sort', '-version', '--json'])).stdout);
    expect(versions).toEqual((await sut.http.get(`/versions?model_id=${modelJson.id}&sort=-version`).set(bearer(BOOTSTRAP_KEY))).body);
    expect(versions.items.map((v: { version: string }) => v.version)).toEqual(['1.4.2', '1.4.1']);
    const paged = JSON.parse((await run(['versions', 'list', '--model', model, '--limit', '1', '--all', '--json'])).stdout);
    expect(paged.items).toHaveLength(2);
    const got = JSON.parse((await run(['versions', 'get', '--model', model, '--version', '1.4.1', '--json'])).stdout);
    expect(got).toEqual((await sut.http.get(`/versions/${got.id}`).set(bearer(BOOTSTRAP_KEY))).body);
    const bindings = JSON.parse((await run(['bindings', 'list', '--model', model, '--json'])).stdout);
    expect(bindings.items).toHaveLength(2);
    const models = await run(['models', 'list', '--q', model]);
    expect(models.stdout).toContain(model);
    expect(models.stdout).toContain('production=');

    const retention = await run(['retention', 'apply', '--model', model, '--dry-run', '--json']);
    expect(retention.code).toBe(1);
    expect(retention.stderr).toContain('(403)');
  });

  it('whoami names the key; a missing or wrong key is a refusal (exit 1) with the problem', async () => {
    const me = await run(['whoami', '--json']);
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ type: 'api_key', name: 'pipeline', auth_required: true });

    const anonymous = await cli(['whoami'], { MODEL_REGISTRY_URL: env.MODEL_REGISTRY_URL }).done;
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/Unauthorized \(401\)/);
    const wrong = await run(['models', 'list', '--api-key', 'mrk_000000000000_nope', '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('bad flags and arguments exit 2 and send nothing', async () => {
    const { file } = await artifact('flags.bin', 'flags');
    const model = unique('cli-flags');
    const cases = [
      ['versions', 'register', '--model', model, '--version', '1.0.0', '--artifact', file, '--no-such-flag'],
      ['versions', 'register', '--model', model, '--version', 'one', '--artifact', file],
      ['versions', 'register', '--model', model, '--version', '1.0.0', '--artifact', file, '--eval-score', 'high'],
      ['versions', 'register', '--model', model, '--version', '1.0.0'],
      ['versions', 'register', '--model', model, '--version', '1.0.0', '--artifact', path.join(dir, 'missing.bin')],
      ['versions', 'register', '--model', model, '--version', '1.0.0', '--artifact', file, '--create-model'],
      ['versions', 'register', '--model', model, '--version', '1.0.0', '--artifact', file, '--label', 'novalue'],
      ['promote', model, '--alias', 'production'],
      ['no-such-command'],
      ['models', 'list', '--limit', '0'],
      ['models', 'list', '--retries', 'many'],
    ];
    for (const args of cases) {
      const result = await run(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/error/);
    }
    expect((await sut.db.query('SELECT 1 FROM models WHERE name = $1', [model])).rowCount).toBe(0);
    expect((await run(['versions', 'register', '--help'])).code).toBe(0);
  });

  it('a stopped service exits 3 within the retry budget', async () => {
    const port = await freePort();
    const down = await cli(['models', 'list', '--retries', '3', '--retry-budget', '2'], { MODEL_REGISTRY_URL: `http://127.0.0.1:${port}` }).done;
    expect(down.code).toBe(3);
    expect(down.stdout).toBe('');
    // Waits of 0.5 + 1 s fit the 2 s budget; the next 2 s would not: three attempts, 1.5 s of waiting.
    expect(down.stderr).toContain('unreachable after 3 attempt(s)');
    expect(down.stderr).toContain('ECONNREFUSED');
    expect(down.ms).toBeLessThan(1_500 + 3_000);
    const defaults = await cli(['whoami'], { MODEL_REGISTRY_URL: `http://127.0.0.1:${port}` }).done;
    expect(defaults.code).toBe(3);
    expect(defaults.ms).toBeLessThan(10_000 + 3_000);
  });

  describe('against a registry that is briefly unavailable', () => {
    let flaky: Server;
    let url: string;
    const seen: { method: string; url: string; at: number }[] = [];
    let unavailable = 0;

    beforeAll(async () => {
      const port = await freePort();
      flaky = createServer((request, response) => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', at: Date.now() });
        if (unavailable > 0) {
          unavailable--;
          response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
          response.end(JSON.stringify({ type: '/problems/service-unavailable', title: 'Service unavailable', status: 503, code: 'service-unavailable', detail: 'The database is unreachable.', request_id: 'r1' }));
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ items: [], next_page_token: null }));
      });
      await new Promise<void>((resolve) => flaky.listen(port, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${port}`;
    });
    afterAll(() => {
      flaky.closeAllConnections();
      return new Promise((resolve) => flaky.close(resolve));
    });

    it('retries a 503 as Retry-After says, then succeeds; past the retries it exits 3 with the problem', async () => {
      seen.length = 0;
      unavailable = 2;
      const recovered = await cli(['models', 'list', '--json'], { MODEL_REGISTRY_URL: url }).done;
      expect(recovered.code).toBe(0);
      expect(JSON.parse(recovered.stdout)).toEqual({ items: [], next_page_token: null });
      expect(seen).toHaveLength(3);
      expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
      expect(seen[2].at - seen[1].at).toBeGreaterThanOrEqual(950);

      seen.length = 0;
      unavailable = 10;
      const gaveUp = await cli(['models', 'list', '--retries', '1'], { MODEL_REGISTRY_URL: url }).done;
      expect(gaveUp.code).toBe(3);
      expect(gaveUp.stderr).toContain('Service unavailable (503): The database is unreachable.');
      expect(seen).toHaveLength(2);
      unavailable = 0;
    });
  });

  it('events tail prints the feed after a cursor, and --follow streams new events as they happen', async () => {
    const model = unique('cli-events');
    const { file } = await artifact('events.bin', 'events');
    const head = (await sut.http.get('/events?after=now').set(bearer(BOOTSTRAP_KEY))).body.next_cursor as string;
    expect((await run(['versions', 'register', '--model', model, '--version', '0.1.0', '--artifact', file, '--create-model', '--task', 'embedding'])).code).toBe(0);
    const tail = await run(['events', 'tail', '--after', head, '--model', model, '--json']);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trim().split('\n').map((line) => JSON.parse(line).type)).toEqual(['model.created', 'version.created']);

    let lines: string[] = [];
    let arrived: () => void = () => undefined;
    const twoLines = new Promise<void>((resolve) => (arrived = resolve));
    // From a cursor taken now: however late the stream connects, it starts there (and skips nothing).
    const before = (await sut.http.get('/events?after=now').set(bearer(BOOTSTRAP_KEY))).body.next_cursor as string;
    const follower = cli(['events', 'tail', '--follow', '--after', before, '--model', model, '--type', 'alias.*', '--json'], env, (stdout) => {
      lines = stdout.split('\n').filter((line) => line !== '');
      if (lines.length >= 1) arrived();
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await run(['promote', model, '--version', '0.1.0', '--alias', 'staging'])).code).toBe(0);
    await Promise.race([twoLines, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    follower.kill();
    await follower.done;
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ type: 'alias.set', alias: 'staging' })]);
  });

  it('hash prints what sha256sum prints', async () => {
    const { file, sha256 } = await artifact('hash.bin', Buffer.alloc(3 * 1024 * 1024, 'h'));
    const hashed = await cli(['hash', file]).done;
    expect(hashed).toMatchObject({ code: 0, stdout: `${sha256}  ${file}\n` });
    const { stdout } = await promisify(execFile)('sha256sum', [file]);
    expect(hashed.stdout).toBe(stdout);
  });
});

describe('model-registry CLI installed on its own', () => {
  it('the packed client and CLI install into an empty project and run there', async () => {
    const exec = promisify(execFile);
    await exec('npm', ['run', '-s', 'cli:pack'], { cwd: ROOT });
    const project = await mkdtemp(path.join(tmpdir(), 'cli-install-'));
    try {
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'pipeline', version: '1.0.0', private: true }));
      const packs = path.join(ROOT, '.data', 'cli-pack');
      await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(packs, 'model-registry-client-0.1.0.tgz'), path.join(packs, 'model-registry-cli-0.1.0.tgz')], {
        cwd: project,
      });
      const bin = path.join(project, 'node_modules', '.bin', 'model-registry');
      const file = path.join(project, 'weights.bin');
      await writeFile(file, 'weights');
      const { stdout } = await exec(bin, ['hash', file]);
      expect(stdout).toBe(`${createHash('sha256').update('weights').digest('hex')}  ${file}\n`);
      const down = await exec(bin, ['whoami', '--retries', '0', '--base-url', `http://127.0.0.1:${await freePort()}`]).catch((error: { code: number; stderr: string }) => error);
      expect(down).toMatchObject({ code: 3, stderr: expect.stringContaining('ECONNREFUSED') });
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  }, 180_000);
});
