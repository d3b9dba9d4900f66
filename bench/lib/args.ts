/** `--name value` flags; `--flag` alone is true. */
export function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  return value === undefined || value.startsWith('--') ? 'true' : value;
}

export const numberFlag = (name: string, fallback: number) => (flag(name) === undefined ? fallback : Number(flag(name)));
export const listFlag = (name: string, fallback: string[]) => flag(name)?.split(',') ?? fallback;
