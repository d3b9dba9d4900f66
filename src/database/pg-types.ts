import { types } from 'pg';

/**
 * Numbers stay numbers on the wire. By default pg returns int8 (bigint, count(*)) and numeric as
 * strings. Ids and size_bytes are bounded to 2^53-1 by validation, so converting them is exact; a sum
 * beyond that (bytes archived by a run, say) becomes the nearest double rather than an error.
 * numeric columns hold costs and scores with at most 15 significant digits.
 */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

types.setTypeParser(INT8_OID, (value) => Number(value));
types.setTypeParser(NUMERIC_OID, (value) => Number.parseFloat(value));
