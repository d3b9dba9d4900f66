import { types } from 'pg';

/**
 * Numbers stay numbers on the wire. By default pg returns int8 (bigint, count(*)) and numeric as
 * strings. Our bigint columns (ids, size_bytes) are bounded to 2^53 by validation, so converting to a
 * JS number is exact; numeric columns hold costs and scores with at most 15 significant digits.
 */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

types.setTypeParser(INT8_OID, (value) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`int8 value ${value} exceeds the safe integer range`);
  return parsed;
});
types.setTypeParser(NUMERIC_OID, (value) => Number.parseFloat(value));
