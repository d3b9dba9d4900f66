import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { environmentSchema, parseEnvironment } from '../src/config/environment';
import { TEST_ENV } from './setup/test-database';
import { createTestApp, type TestApp } from './support/test-app';

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, 'deploy', 'kubernetes');
/** Kept beside the manifests as documentation of the Secret's keys, and validated, but never applied. */
const EXAMPLES = ['secret.example.yaml'];

/**
 * Settings the authentication work adds to src/config/environment.ts. Until it is merged they are not
 * in the schema, so the manifests may name them only as optional Secret keys (read when present).
 */
const AUTH_SETTINGS = [
  'AUTH_BOOTSTRAP_KEY',
  'AUTH_OIDC_ISSUER',
  'AUTH_OIDC_AUDIENCE',
  'AUTH_OIDC_JWKS_URI',
  'AUTH_OIDC_SCOPES_CLAIM',
  'AUTH_OIDC_SUBJECT_SCOPES',
  'METRICS_TOKEN',
  'RATE_LIMIT_REDIS_URL',
];

type Obj = Record<string, any>;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}

function readYaml(file: string): Obj[] {
  return parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS() as Obj;
  });
}

/**
 * What `kubectl apply -k` would send, for the kustomization features these manifests use (resources,
 * labels without selectors, image tags). Any other feature fails the test rather than being ignored.
 */
function render(): Obj[] {
  const [kustomization] = readYaml('kustomization.yaml');
  const unknown = Object.keys(kustomization).filter((key) => !['apiVersion', 'kind', 'resources', 'labels', 'images'].includes(key));
  if (unknown.length > 0) throw new Error(`the test's renderer does not know kustomization fields: ${unknown.join(', ')}`);
  const labels = Object.assign({}, ...(kustomization.labels ?? []).map((entry: Obj) => entry.pairs));
  const objects = (kustomization.resources as string[]).flatMap(readYaml);
  for (const object of objects) {
    object.metadata.labels = { ...object.metadata.labels, ...labels };
    for (const container of podSpecOf(object)?.containers ?? []) {
      for (const image of kustomization.images ?? []) {
        const [name] = String(container.image).split(':');
        if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag}`;
      }
    }
  }
  return objects;
}

function podSpecOf(object: Obj): Obj | undefined {
  return ['Deployment', 'Job'].includes(object.kind) ? object.spec.template.spec : undefined;
}

function validate(objects: Obj[]): { kind: string; name: string; error?: string }[] {
  const output = execFileSync(process.execPath, [path.join(__dirname, 'support', 'validate-kubernetes.mjs')], { cwd: ROOT, input: JSON.stringify(objects), encoding: 'utf8' });
  return JSON.parse(output);
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const objects = render();
  const one = (kind: string) => {
    const found = objects.filter((object) => object.kind === kind);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const deployment = () => one('Deployment');
  const job = () => one('Job');
  const configMap = () => one('ConfigMap').data as Record<string, string>;
  const secretExample = () => readYaml('secret.example.yaml')[0];
  const container = (object: Obj) => podSpecOf(object)!.containers[0] as Obj;

  it('renders every manifest in the folder and every object is valid against the Kubernetes (and Prometheus Operator) schemas', () => {
    const rendered = new Set((readYaml('kustomization.yaml')[0].resources as string[]).concat('kustomization.yaml', ...EXAMPLES));
    expect(readdirSync(DIR).filter((file) => file.endsWith('.yaml') && !rendered.has(file))).toEqual([]);
    expect(objects.map((object) => object.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
    );
    const results = validate([...objects, secretExample()]);
    expect(results.filter((result) => result.error)).toEqual([]);
    expect(results).toHaveLength(objects.length + 1);
  });

  it('the validator does reject a broken object (so the check above can fail)', () => {
    const broken = structuredClone(deployment());
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const [result] = validate([broken]);
    expect(result.error).toMatch(/containerPort must be integer/);
  });

  it('names only variables the service reads, with values it accepts, in the app and in the migration job', () => {
    const known = new Set(Object.keys(environmentSchema));
    expect(Object.keys(configMap()).filter((name) => !known.has(name))).toEqual([]);
    const secretKeys = new Set(Object.keys(secretExample().stringData));
    for (const workload of [deployment(), job()]) {
      const env = container(workload).env as EnvVar[];
      for (const variable of env) {
        const secret = variable.valueFrom?.secretKeyRef;
        const configKey = variable.valueFrom?.configMapKeyRef;
        const pendingAuth = AUTH_SETTINGS.includes(variable.name) && secret?.optional === true;
        expect({ name: variable.name, known: known.has(variable.name) || pendingAuth }).toEqual({ name: variable.name, known: true });
        if (secret) {
          expect(secret.name).toBe(secretExample().metadata.name);
          expect(secretKeys.has(secret.key)).toBe(true);
          // Only the database password is required; every other secret is optional.
          expect(secret.optional === true || secret.key === 'POSTGRES_PASSWORD').toBe(true);
        }
        if (configKey) {
          expect(configKey.name).toBe(one('ConfigMap').metadata.name);
          expect(configMap()[configKey.key]).toBeDefined();
        }
      }
      expect(container(workload).envFrom).toEqual([{ configMapRef: { name: one('ConfigMap').metadata.name } }]);
      // What the process would see, given the example Secret, must pass the service's own validation.
      const resolved: Record<string, string> = { ...configMap() };
      for (const variable of env) {
        if (variable.value !== undefined) resolved[variable.name] = variable.value;
        if (variable.valueFrom?.configMapKeyRef) resolved[variable.name] = configMap()[variable.valueFrom.configMapKeyRef.key];
        const secretValue = variable.valueFrom?.secretKeyRef ? (secretExample().stringData as Record<string, string>)[variable.valueFrom.secretKeyRef.key] : undefined;
        if (secretValue) resolved[variable.name] = secretValue;
      }
      expect(() => parseEnvironment(resolved)).not.toThrow();
    }
    const appEnv = container(deployment()).env as EnvVar[];
    expect(appEnv.find((variable) => variable.name === 'DB_MIGRATIONS_RUN')?.value).toBe('false');
    expect(appEnv.find((variable) => variable.name === 'POSTGRES_PASSWORD')?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
    expect(AUTH_SETTINGS.every((name) => appEnv.some((variable) => variable.name === name && variable.valueFrom?.secretKeyRef?.optional))).toBe(true);
  });

  it('uses the port the service listens on, and the Service, monitor, budget and autoscaler find the pods', () => {
    const ports = container(deployment()).ports as Obj[];
    expect(ports).toEqual([{ name: 'http', containerPort: environmentSchema.PORT.default, protocol: 'TCP' }]);
    expect(Number(configMap().PORT)).toBe(environmentSchema.PORT.default);
    const podLabels = deployment().spec.template.metadata.labels;
    expect(matches(deployment().spec.selector.matchLabels, podLabels)).toBe(true);
    const service = one('Service');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    expect(service.spec.ports.map((port: Obj) => port.targetPort)).toEqual(['http']);
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels, podLabels)).toBe(true);
    expect(one('HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment().metadata.name });
    const monitor = one('ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(service.spec.ports.map((port: Obj) => port.name)).toContain(monitor.spec.endpoints[0].port);
    expect(monitor.spec.endpoints[0].authorization.credentials).toMatchObject({ name: secretExample().metadata.name, key: 'METRICS_TOKEN', optional: true });
  });

  it('pauses before SIGTERM exactly SHUTDOWN_DRAIN_MS, and gives shutdown its full time', () => {
    const spec = podSpecOf(deployment())!;
    const pauseMs = container(deployment()).lifecycle.preStop.sleep.seconds * 1000;
    expect(pauseMs).toBe(Number(configMap().SHUTDOWN_DRAIN_MS));
    expect(pauseMs).toBeGreaterThan(0);
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(pauseMs + Number(configMap().SHUTDOWN_TIMEOUT_MS));
    expect(container(deployment()).readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(Number(configMap().HEALTH_DB_TIMEOUT_MS));
  });

  it('runs every container as non-root, read-only, without privileges, within requests and limits', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const workload of [deployment(), job()]) {
      const spec = podSpecOf(workload)!;
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers as Obj[]) {
        expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        for (const kind of ['requests', 'limits']) expect(Object.keys(c.resources[kind]).sort()).toEqual(['cpu', 'memory']);
        expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      }
    }
    expect(container(job()).image).toBe(container(deployment()).image);
  });

  it("the migration job runs the image's migration command, straight to the primary", () => {
    const command = container(job()).command as string[];
    expect(command.slice(0, 1)).toEqual(['node']);
    // The same command as docker-compose's migrate service, which the image runtime test runs.
    const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as Obj;
    expect(command).toEqual(compose.services.migrate.command);
    // The image holds the build in /app/dist, as the tests' build holds it in its own folder.
    expect(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^WORKDIR \/app$/m);
    const built = path.dirname(process.env[TEST_ENV.builtApp]!);
    expect(existsSync(path.join(built, path.relative('dist', command[1])))).toBe(true);
    const env = container(job()).env as EnvVar[];
    expect(env.find((variable) => variable.name === 'POSTGRES_HOST')?.valueFrom?.configMapKeyRef?.key).toBe('POSTGRES_DIRECT_HOST');
    expect(env.find((variable) => variable.name === 'POSTGRES_PORT')?.valueFrom?.configMapKeyRef?.key).toBe('POSTGRES_DIRECT_PORT');
    expect(podSpecOf(job())!.restartPolicy).toBe('Never');
  });

  describe('against the running service', () => {
    let sut: TestApp;
    beforeAll(async () => {
      sut = await createTestApp('kubernetes');
    });
    afterAll(() => sut.close());

    it('every probe path is a Terminus health check of the service that answers 200 when healthy; liveness never touches the database', async () => {
      const c = container(deployment());
      const probes = [c.startupProbe, c.livenessProbe, c.readinessProbe] as Obj[];
      for (const probe of probes) {
        expect(probe.httpGet.port).toBe('http');
        const response = await sut.http.get(probe.httpGet.path);
        expect({ path: probe.httpGet.path, status: response.status, body: response.body.status }).toEqual({ path: probe.httpGet.path, status: 200, body: 'ok' });
      }
      expect(Object.keys((await sut.http.get(c.livenessProbe.httpGet.path)).body.info)).toEqual(['process']);
      expect(Object.keys((await sut.http.get(c.readinessProbe.httpGet.path)).body.info)).toEqual(expect.arrayContaining(['database', 'migrations', 'lifecycle']));
    });

    it('the ServiceMonitor scrapes a path that serves Prometheus metrics', async () => {
      const response = await sut.http.get(one('ServiceMonitor').spec.endpoints[0].path);
      expect(response.status).toBe(200);
      expect(response.text).toMatch(/^# (HELP|TYPE) /m);
    });
  });
});
