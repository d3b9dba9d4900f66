/**
 * Exact decimal text for prices. Gateways price per token, the registry per 1M tokens: the shift by
 * six places is done on the digits, so `2.5` per 1M becomes exactly `0.0000025` per token, with no
 * binary floating-point noise and no exponent (OpenRouter's prices are such strings, and PyYAML, which
 * LiteLLM reads its configuration with, takes `1e-07` for a string).
 */

const DECIMAL = /^(\d+)(?:\.(\d*))?(?:e([-+]?\d+))?$/i;

/** `text` (a non-negative decimal, optionally with an exponent) times 10^places, as plain decimal text. */
export function shiftDecimal(text: string, places: number): string {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new RangeError(`not a non-negative decimal: ${text}`);
  const fraction = match[2] ?? '';
  const exponent = Number(match[3] ?? 0) + places;
  // value = digits × 10^(exponent - fraction.length)
  const digits = `${match[1]}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const scale = fraction.length - exponent;
  if (scale <= 0) return `${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  const integer = padded.slice(0, padded.length - scale);
  const decimals = padded.slice(padded.length - scale).replace(/0+$/, '');
  return decimals === '' ? integer : `${integer}.${decimals}`;
}

/** A finite non-negative number as plain decimal text (JavaScript prints 1.5e-7 for 0.00000015). */
export function plainDecimal(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a finite non-negative number: ${value}`);
  return shiftDecimal(String(value), 0);
}

/** A price per 1M tokens (decimal text, as PostgreSQL prints numeric) as the price of one token. */
export const perToken = (per1m: string) => shiftDecimal(per1m, -6);

/** A price per token (a JSON number) as the price of 1M tokens. */
export const per1mTokens = (perTokenPrice: number) => Number(shiftDecimal(String(perTokenPrice), 6));
