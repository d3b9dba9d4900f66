import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import S3rver = require('s3rver');
import { setEnv } from './test-app';

/** A local S3 server (s3rver) with the given buckets, a client for it, and the credentials in the environment for the service. */
export async function startS3(buckets: string[]) {
  const directory = mkdtempSync(path.join(tmpdir(), 'mr-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, resetOnClose: true });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  // The service finds credentials the standard AWS way (here: the environment), when it first calls S3.
  const restoreCredentials = setEnv({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  for (const bucket of buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    client,
    async put(bucket: string, key: string, body: string): Promise<string> {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
      return `s3://${bucket}/${key}`;
    },
    /** The object's content, or undefined when there is none. */
    async get(bucket: string, key: string): Promise<string | undefined> {
      try {
        return await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
      } catch {
        return undefined;
      }
    },
    async exists(bucket: string, key: string): Promise<boolean> {
      return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        () => true,
        () => false,
      );
    },
    async close(): Promise<void> {
      client.destroy();
      await server.close();
      restoreCredentials();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
