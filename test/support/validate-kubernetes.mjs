// Validates Kubernetes objects against the API schemas that the kubernetes-models packages compile.
// Those packages are ES modules only and jest runs CommonJS, so the test runs this script as a child:
// a JSON array of objects on stdin, one { kind, name, error } per object on stdout.
import { readFileSync } from 'node:fs';
import { stdout } from 'node:process';

/** API groups served by packages other than kubernetes-models itself. */
const PACKAGES = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

async function modelOf(apiVersion, kind) {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const base = PACKAGES[group] ?? 'kubernetes-models';
  // Core objects live under kubernetes-models/v1, the others under kubernetes-models/<group>/<version>.
  const module = await import(`${base}/${apiVersion}/${kind}`);
  return module[kind];
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const object of objects) {
  const result = { kind: object.kind, name: object.metadata?.name };
  try {
    const Model = await modelOf(object.apiVersion, object.kind);
    if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  results.push(result);
}
stdout.write(JSON.stringify(results));
