/**
 * The label selector of a webhook's `selector` field, in the Kubernetes grammar: `key=value`,
 * `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`; a comma means AND.
 *
 * The labels feature brings the registry's own parser and evaluator (src/common/labels); this file is the
 * one place the webhooks depend on a selector, so that they can be pointed at it without touching
 * anything else: `parseWebhookSelector` parses (throwing `SelectorSyntaxError` with the position where
 * the text fails) and `matches` evaluates against one object's labels.
 */
export interface WebhookSelector {
  readonly text: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

export class SelectorSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`at position ${position}: ${message}`);
    this.name = 'SelectorSyntaxError';
  }
}

type Requirement =
  | { op: 'exists' | 'absent'; key: string }
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: Set<string> };

const NAME = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

const validValue = (value: string) => value === '' || NAME.test(value);

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    this.space();
    if (this.at === this.text.length) throw new SelectorSyntaxError('the selector is empty', 0);
    for (;;) {
      requirements.push(this.requirement());
      this.space();
      if (this.at === this.text.length) return requirements;
      this.expect(',');
      this.space();
    }
  }

  private requirement(): Requirement {
    if (this.peek('!')) {
      this.at++;
      this.space();
      return { op: 'absent', key: this.key() };
    }
    const key = this.key();
    this.space();
    if (this.at === this.text.length || this.peek(',')) return { op: 'exists', key };
    if (this.peek('==')) return this.valueAfter(2, 'eq', key);
    if (this.peek('!=')) return this.valueAfter(2, 'neq', key);
    if (this.peek('=')) return this.valueAfter(1, 'eq', key);
    const word = /^(notin|in)(?=[\s(])/.exec(this.text.slice(this.at));
    if (!word) throw new SelectorSyntaxError('expected =, ==, !=, in, notin, "," or the end', this.at);
    this.at += word[1].length;
    this.space();
    this.expect('(');
    this.space();
    if (this.peek(')')) throw new SelectorSyntaxError(`"${word[1]}" needs at least one value`, this.at);
    const values = new Set<string>();
    for (;;) {
      this.space();
      values.add(this.value());
      this.space();
      if (this.peek(')')) break;
      this.expect(',');
    }
    this.at++;
    return { op: word[1] as 'in' | 'notin', key, values };
  }

  private valueAfter(length: number, op: 'eq' | 'neq', key: string): Requirement {
    this.at += length;
    this.space();
    return { op, key, value: this.value() };
  }

  private key(): string {
    const start = this.at;
    const token = this.token(/[A-Za-z0-9._/-]/);
    if (!validKey(token)) throw new SelectorSyntaxError(`${JSON.stringify(token)} is not a label key (optional DNS prefix and "/", then up to 63 of A-Z a-z 0-9 . _ - starting and ending with a letter or digit)`, start);
    return token;
  }

  private value(): string {
    const start = this.at;
    const token = this.token(/[A-Za-z0-9._-]/);
    if (!validValue(token)) throw new SelectorSyntaxError(`${JSON.stringify(token)} is not a label value (up to 63 of A-Z a-z 0-9 . _ - starting and ending with a letter or digit)`, start);
    return token;
  }

  private token(allowed: RegExp): string {
    const start = this.at;
    while (this.at < this.text.length && allowed.test(this.text[this.at])) this.at++;
    return this.text.slice(start, this.at);
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  private peek(literal: string): boolean {
    return this.text.startsWith(literal, this.at);
  }

  private expect(literal: string): void {
    if (!this.peek(literal)) throw new SelectorSyntaxError(`expected "${literal}"`, this.at);
    this.at += literal.length;
  }
}

function satisfies(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.op) {
    case 'exists':
      return has;
    case 'absent':
      return !has;
    case 'eq':
      return value === requirement.value;
    case 'neq':
      return value !== requirement.value;
    case 'in':
      return has && requirement.values.has(value!);
    case 'notin':
      return !has || !requirement.values.has(value!);
  }
}

export function parseWebhookSelector(text: string): WebhookSelector {
  const requirements = new Parser(text).parse();
  return { text, matches: (labels) => requirements.every((requirement) => satisfies(requirement, labels)) };
}
