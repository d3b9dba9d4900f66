import { QueryFailedError } from 'typeorm';
import { translateDatabaseError } from './database-errors';

const pgError = (fields: Record<string, string>) => new QueryFailedError('SELECT secret FROM t', [], Object.assign(new Error('driver says: duplicate key value violates'), fields));

describe('translateDatabaseError', () => {
  it('maps a unique violation to 409 naming the field from the constraint catalog', () => {
    const sut = translateDatabaseError(pgError({ code: '23505', constraint: 'uq_models_name' }));
    expect(sut).toMatchObject({ status: 409, code: 'conflict', errors: [{ field: 'name', message: 'a model with this name already exists' }] });
  });

  it('maps a foreign-key violation to 404 on writes and 409 on DELETE', () => {
    expect(translateDatabaseError(pgError({ code: '23503', constraint: 'fk_model_versions_model' }), 'POST')).toMatchObject({
      status: 404,
      errors: [{ field: 'model_id' }],
    });
    expect(translateDatabaseError(pgError({ code: '23503', constraint: 'fk_model_versions_model' }), 'DELETE')).toMatchObject({ status: 409 });
  });

  it('maps check and not-null violations to 400', () => {
    expect(translateDatabaseError(pgError({ code: '23514', constraint: 'ck_model_versions_eval_score' }))).toMatchObject({
      status: 400,
      code: 'constraint-violation',
      errors: [{ field: 'eval_score' }],
    });
    expect(translateDatabaseError(pgError({ code: '23502', column: 'task' }))).toMatchObject({ status: 400, errors: [{ field: 'task', message: 'is required' }] });
  });

  it('maps an unknown constraint to a generic message, never the driver text', () => {
    const sut = translateDatabaseError(pgError({ code: '23505', constraint: 'uq_unknown' }))!;
    expect(sut.status).toBe(409);
    expect(sut.detail).not.toMatch(/duplicate key|secret/);
  });

  it('maps connection failures and timeouts to 503', () => {
    expect(translateDatabaseError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({ status: 503 });
    expect(translateDatabaseError(new Error('timeout exceeded when trying to connect'))).toMatchObject({ status: 503 });
    expect(translateDatabaseError(pgError({ code: '57P01' }))).toMatchObject({ status: 503 });
    expect(translateDatabaseError(pgError({ code: '57014' }))).toMatchObject({ status: 503 });
    // A write that reached a standby during a failover (measured in deploy/drill).
    expect(translateDatabaseError(pgError({ code: '25006' }))).toMatchObject({ status: 503 });
  });

  it('maps serialization failures and deadlocks to 409 (retry)', () => {
    expect(translateDatabaseError(pgError({ code: '40001' }))).toMatchObject({ status: 409 });
    expect(translateDatabaseError(pgError({ code: '40P01' }))).toMatchObject({ status: 409 });
  });

  it('leaves programming errors alone (they become a 500)', () => {
    expect(translateDatabaseError(pgError({ code: '42P01' }))).toBeUndefined();
    expect(translateDatabaseError(pgError({ code: '08P01' }))).toBeUndefined();
    expect(translateDatabaseError(new TypeError('x is undefined'))).toBeUndefined();
  });
});
