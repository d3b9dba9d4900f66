import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every statement that writes change-feed rows also raises `NOTIFY registry_changes` with the ids of
 * the models it touched (comma-separated), or `*` when it cannot say (a row without a model id, or too
 * many models for one notification's 8,000-byte payload). PostgreSQL delivers a notification only when
 * its transaction commits, and after the commit is visible: a replica that hears it and re-reads sees
 * the change. The resolve cache of every replica drops the models named, and the push stream wakes up.
 *
 * A trigger on `events` itself, so the `registry_events_*` functions that write the rows stay as they
 * are, and no code path that writes an event can forget the notification.
 */
export class ChangeNotifications1795702000000 implements MigrationInterface {
  name = 'ChangeNotifications1795702000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION registry_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        models text;
        unknown boolean;
      BEGIN
        SELECT string_agg(DISTINCT model_id::text, ','), bool_or(model_id IS NULL) INTO models, unknown FROM new_rows;
        -- Statement triggers also fire for statements that inserted nothing.
        IF unknown IS NULL THEN
          RETURN NULL;
        END IF;
        PERFORM pg_notify('registry_changes', CASE WHEN unknown OR length(models) > 7000 THEN '*' ELSE models END);
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(
      `CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_notify()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS events_notify ON events`);
    await queryRunner.query(`DROP FUNCTION registry_changes_notify()`);
  }
}
