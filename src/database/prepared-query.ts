import * as pg from 'pg';

/** What `pg` hands a query's callback (the fields the service reads). */
export interface QueryResult {
  command: string | null;
  rowCount: number | null;
  rows: Record<string, unknown>[];
}

type Parser = (value: string) => unknown;
type Callback = (error: Error | null, result?: QueryResult) => void;

/** A statement's result columns on one connection: names and parsers, from its first RowDescription. */
interface Shape {
  names: string[];
  parsers: Parser[];
  /** Every column as an own property, null, in order: a row starts as a copy of it. */
  template: Record<string, null>;
}

/** The parts of pg's Connection (pg/lib/connection.js) a query writes to. */
interface Connection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(message: { text: string; name?: string }): void;
  bind(message: { statement?: string; values: unknown[] }): void;
  describe(message: { type: 'P' | 'S'; name: string }): void;
  execute(message: { portal: string }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

interface FieldDescription {
  name: string;
  dataTypeID: number;
}

/** pg's own conversion of a JavaScript value to a parameter (Dates, arrays, Buffers, objects as JSON). */
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils.prepareValue;

/**
 * The result shapes of named statements, per connection: a named statement's columns cannot change
 * without PostgreSQL refusing to run it ("cached plan must not change result type"), so once a
 * connection has described it, its executions need no Describe.
 */
const shapesByConnection = new WeakMap<Connection, Map<string, Shape>>();

const COMMAND = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/;

function shapeOf(fields: FieldDescription[]): Shape {
  const shape: Shape = { names: new Array<string>(fields.length), parsers: new Array<Parser>(fields.length), template: {} };
  for (let i = 0; i < fields.length; i++) {
    shape.names[i] = fields[i].name;
    // Bind asks for every result column in text format (binary results are never requested).
    shape.parsers[i] = pg.types.getTypeParser(fields[i].dataTypeID, 'text') as Parser;
    // Defined, not assigned: a column named __proto__ is a property like any other, as in pg's rows.
    Object.defineProperty(shape.template, fields[i].name, { value: null, writable: true, enumerable: true, configurable: true });
  }
  return shape;
}

/**
 * One execution of a statement through the extended protocol, as a `pg` custom query (a
 * "Submittable", the interface pg-cursor and pg-query-stream use): what `pg`'s own `Query` does for a
 * named statement, with the same messages, type parsers, parameter conversion, errors and result, but
 *
 * - a named statement is described once per connection, not on every execution: Bind, Execute, Sync
 *   (the first execution on a connection also Parses and Describes, as `pg` does every time);
 * - rows are built from that cached shape, where `pg` rebuilds its column table and a dictionary-mode
 *   row template for every result, and copies the query's config through property descriptors;
 * - no EventEmitter: the pool hands it a callback, and rows are only ever accumulated.
 *
 * On a model read this was about a sixth of the CPU of the request (137 -> 115 µs, BENCHMARKS.md).
 */
export class PreparedQuery {
  readonly text: string;
  readonly name: string | undefined;
  readonly values: unknown[];
  /** Set by pg's Client.query from the pool's callback. */
  callback: Callback | undefined = undefined;
  private shape: Shape | undefined = undefined;
  private readonly rows: Record<string, unknown>[] = [];
  private command: string | null = null;
  private rowCount: number | null = null;
  /** A row that could not be parsed: the query fails with it once PostgreSQL is done. */
  private failure: Error | undefined = undefined;

  constructor(text: string, values: unknown[], name?: string) {
    this.text = text;
    this.values = values;
    this.name = name;
  }

  /** Called by pg's Client when the connection is free: writes the whole exchange in one write. */
  submit(connection: Connection): Error | null {
    if (!Array.isArray(this.values)) return new Error('Query values must be an array');
    const name = this.name;
    // The text this connection already prepared (or is preparing) under the name.
    const previous = name === undefined ? undefined : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]);
    if (previous !== undefined && previous !== this.text) return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
    if (name !== undefined) this.shape = shapesByConnection.get(connection)?.get(name);
    // The values are converted before anything is written: one that cannot be sent (a circular
    // object, say) fails the query with nothing on the wire. (pg's Query converts them while writing
    // Bind, after Parse, then closes the statement, and still records it as parsed when PostgreSQL
    // confirms the Parse: the name's next execution fails with "prepared statement does not exist".)
    const parameters = new Array<unknown>(this.values.length);
    try {
      for (let i = 0; i < parameters.length; i++) parameters[i] = prepareValue(this.values[i]);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    connection.stream.cork?.();
    try {
      if (previous === undefined) {
        connection.parse({ text: this.text, name });
        if (name !== undefined) connection.submittedNamedStatements[name] = this.text;
      }
      connection.bind({ statement: name, values: parameters });
      if (this.shape === undefined) connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '' });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  /** Only when the execution described the statement (its first on the connection, or unnamed). */
  handleRowDescription(message: { fields: FieldDescription[] }): void {
    this.shape = shapeOf(message.fields);
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    if (this.failure !== undefined) return;
    const shape = this.shape;
    if (shape === undefined) {
      this.failure = new Error('Received a data row before the row description');
      return;
    }
    const fields = message.fields;
    // A copy of the template already has every column (V8 clones it in one step); the values are
    // stored into existing properties, and a column named __proto__ stays an own property.
    const row: Record<string, unknown> = { ...shape.template };
    try {
      for (let i = 0; i < fields.length; i++) {
        const raw = fields[i];
        row[shape.names[i]] = raw === null ? null : shape.parsers[i](raw);
      }
    } catch (error) {
      this.failure = error as Error;
      return;
    }
    this.rows.push(row);
  }

  handleCommandComplete(message: { text: string }): void {
    const match = COMMAND.exec(message.text);
    if (!match) return;
    this.command = match[1];
    if (match[3] !== undefined) this.rowCount = Number.parseInt(match[3], 10);
    else if (match[2] !== undefined) this.rowCount = Number.parseInt(match[2], 10);
  }

  handleEmptyQuery(): void {
    // Sync was written with Execute: ReadyForQuery follows.
  }

  handlePortalSuspended(): void {
    // Never: Execute asks for every row.
  }

  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('No source stream defined');
  }

  handleCopyData(): void {
    // A COPY is refused above.
  }

  handleError(error: Error, connection?: Connection): void {
    // The cached shape is dropped with any error (a statement whose plan changed is described anew).
    if (this.name !== undefined && connection !== undefined) shapesByConnection.get(connection)?.delete(this.name);
    const failure = this.failure ?? error;
    this.failure = undefined;
    this.finish(failure);
  }

  handleReadyForQuery(connection: Connection): void {
    if (this.failure !== undefined) return this.handleError(this.failure, connection);
    if (this.name !== undefined && this.shape !== undefined) {
      let shapes = shapesByConnection.get(connection);
      if (shapes === undefined) shapesByConnection.set(connection, (shapes = new Map()));
      if (!shapes.has(this.name)) shapes.set(this.name, this.shape);
    }
    this.finish(null, { command: this.command, rowCount: this.rowCount, rows: this.rows });
  }

  /** The callback runs once, whatever the connection reports after an error. */
  private finish(error: Error | null, result?: QueryResult): void {
    const callback = this.callback;
    this.callback = undefined;
    callback?.(error, result);
  }
}
