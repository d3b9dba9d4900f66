/** What a generated-client flow observed, for the e2e test to compare across generators. */
export interface FlowReport {
  statuses: Record<string, number>;
  /** The extension member each typed problem exposed (read without a cast). */
  problems: { notFound?: string; conflict?: string; preconditionFailed?: string };
  resolvedVersionId?: number;
  listed?: string[];
}

export interface FlowOptions {
  baseUrl: string;
  fetch: typeof globalThis.fetch;
  /** A model name no other run uses. */
  name: string;
  /** The bearer token (an API key) the flows authenticate with. */
  token: string;
}

/** The status of a call's response (0 when the call got none: a network error). */
export const statusOf = (result: { response?: Response | undefined }): number => result.response?.status ?? 0;

export function expectStatus(result: { response?: Response | undefined }, status: number): void {
  if (statusOf(result) !== status) throw new Error(`${result.response?.url ?? '(no response)'}: expected ${status}, got ${statusOf(result)}`);
}
