import { labelKeyProblem, labelValueProblem, quoteForMessage, type Labels } from './label-rules';

/**
 * Kubernetes label selectors (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors):
 *
 *   selector    := requirement ( "," requirement )*        every requirement must hold (AND)
 *   requirement := KEY ( "=" | "==" | "!=" ) VALUE?        equality; an omitted value is the empty value
 *                | KEY ( "in" | "notin" ) "(" VALUE? ( "," VALUE? )* ")"
 *                | KEY                                     the label exists
 *                | "!" KEY                                 the label does not exist
 *
 * Whitespace between tokens is ignored; keys and values follow the label rules. As in Kubernetes,
 * `!=` and `notin` also match objects that lack the key. An empty selector matches everything.
 */
export type SelectorOperator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  /** One value for `=` and `!=`, one or more for `in` and `notin`, none for `exists` and `!exists`. */
  values: string[];
}

export const MAX_SELECTOR_LENGTH = 4096;
export const MAX_REQUIREMENTS = 64;
export const MAX_SET_VALUES = 100;

/** A selector that cannot be parsed; `position` is the 0-based index of the offending character. */
export class SelectorSyntaxError extends Error {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`at character ${position + 1}: ${reason}`);
    this.name = 'SelectorSyntaxError';
  }
}

type TokenKind = 'identifier' | '!' | '=' | '==' | '!=' | ',' | '(' | ')' | 'unsupported' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  position: number;
}

const SPECIAL = new Set(['!', '=', ',', '(', ')', '<', '>']);
const isSpace = (char: string) => /\s/.test(char);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i];
    if (isSpace(char)) {
      i++;
    } else if (char === '=' || char === '!') {
      const double = input[i + 1] === '=';
      const kind: TokenKind = char === '=' ? (double ? '==' : '=') : double ? '!=' : '!';
      tokens.push({ kind, text: kind, position: i });
      i += double ? 2 : 1;
    } else if (char === ',' || char === '(' || char === ')') {
      tokens.push({ kind: char, text: char, position: i });
      i++;
    } else if (char === '<' || char === '>') {
      tokens.push({ kind: 'unsupported', text: char, position: i });
      i++;
    } else {
      const start = i;
      while (i < input.length && !isSpace(input[i]) && !SPECIAL.has(input[i])) i++;
      tokens.push({ kind: 'identifier', text: input.slice(start, i), position: start });
    }
  }
  tokens.push({ kind: 'end', text: '', position: input.length });
  return tokens;
}

const describe = (token: Token) => (token.kind === 'end' ? 'the end of the selector' : quoteForMessage(token.text));

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    if (this.peek().kind === 'end') return requirements;
    for (;;) {
      const start = this.peek();
      if (requirements.length === MAX_REQUIREMENTS) throw new SelectorSyntaxError(start.position, `a selector may have at most ${MAX_REQUIREMENTS} requirements`);
      requirements.push(this.requirement());
      const after = this.next();
      if (after.kind === 'end') return requirements;
      if (after.kind !== ',') throw new SelectorSyntaxError(after.position, `expected "," or the end of the selector, found ${describe(after)}`);
    }
  }

  private requirement(): Requirement {
    const first = this.next();
    if (first.kind === '!') {
      const key = this.key(this.next());
      const after = this.peek();
      if (after.kind !== ',' && after.kind !== 'end') {
        throw new SelectorSyntaxError(after.position, `"!${key}" takes no operator or value: expected "," or the end of the selector, found ${describe(after)}`);
      }
      return { key, operator: '!exists', values: [] };
    }
    const key = this.key(first);
    const operator = this.peek();
    switch (operator.kind) {
      case ',':
      case 'end':
        return { key, operator: 'exists', values: [] };
      case '=':
      case '==':
      case '!=':
        this.next();
        return { key, operator: operator.kind === '!=' ? '!=' : '=', values: [this.exactValue()] };
      case 'identifier':
        if (operator.text === 'in' || operator.text === 'notin') {
          this.next();
          return { key, operator: operator.text, values: this.valueSet(operator.text) };
        }
        break;
      case 'unsupported':
        throw new SelectorSyntaxError(operator.position, `operator "${operator.text}" is not supported: use =, ==, !=, in, notin, KEY or !KEY`);
    }
    throw new SelectorSyntaxError(operator.position, `expected "=", "==", "!=", "in", "notin", "," or the end of the selector after key ${quoteForMessage(key)}, found ${describe(operator)}`);
  }

  private key(token: Token): string {
    if (token.kind !== 'identifier') throw new SelectorSyntaxError(token.position, `expected a label key, found ${describe(token)}`);
    const problem = labelKeyProblem(token.text);
    if (problem) throw new SelectorSyntaxError(token.position, `label key ${quoteForMessage(token.text)} ${problem}`);
    return token.text;
  }

  private value(token: Token): string {
    const problem = labelValueProblem(token.text);
    if (problem) throw new SelectorSyntaxError(token.position, `label value ${quoteForMessage(token.text)} ${problem}`);
    return token.text;
  }

  /** After `=`, `==` or `!=`: a value, or nothing (the empty value) before "," or the end. */
  private exactValue(): string {
    const token = this.peek();
    if (token.kind === ',' || token.kind === 'end') return '';
    if (token.kind !== 'identifier') throw new SelectorSyntaxError(token.position, `expected a label value, found ${describe(token)}`);
    this.next();
    return this.value(token);
  }

  /** `( VALUE? ( , VALUE? )* )`: empty entries are the empty value, as in Kubernetes. */
  private valueSet(operator: string): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new SelectorSyntaxError(open.position, `expected "(" after "${operator}", found ${describe(open)}`);
    if (this.peek().kind === ')') throw new SelectorSyntaxError(this.peek().position, `the value set of "${operator}" cannot be empty`);
    const values: string[] = [];
    for (;;) {
      const token = this.peek();
      if (values.length === MAX_SET_VALUES) throw new SelectorSyntaxError(token.position, `a value set may have at most ${MAX_SET_VALUES} values`);
      if (token.kind === 'identifier') {
        this.next();
        values.push(this.value(token));
      } else if (token.kind === ',' || token.kind === ')') {
        values.push('');
      } else {
        throw new SelectorSyntaxError(token.position, `expected a label value, "," or ")", found ${describe(token)}`);
      }
      const separator = this.next();
      if (separator.kind === ')') return [...new Set(values)];
      if (separator.kind !== ',') throw new SelectorSyntaxError(separator.position, `expected "," or ")" in the value set, found ${describe(separator)}`);
    }
  }
}

/** Parses a selector; throws {@link SelectorSyntaxError} saying where it fails. */
export function parseSelector(input: string): Requirement[] {
  if (input.length > MAX_SELECTOR_LENGTH) throw new SelectorSyntaxError(MAX_SELECTOR_LENGTH, `a selector may be at most ${MAX_SELECTOR_LENGTH} characters long`);
  return new Parser(tokenize(input)).parse();
}

/** The reference semantics, used in memory (tests, webhook filters) and mirrored by the SQL of selector-sql.ts. */
export function requirementMatches(requirement: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case '=':
    case 'in':
      return has && requirement.values.includes(value!);
    case '!=':
    case 'notin':
      return !has || !requirement.values.includes(value!);
    case 'exists':
      return has;
    case '!exists':
      return !has;
  }
}

export function matchesSelector(requirements: Requirement[], labels: Labels): boolean {
  return requirements.every((requirement) => requirementMatches(requirement, labels));
}

/** A canonical text of the selector (for page-token fingerprints and messages). */
export function formatSelector(requirements: Requirement[]): string {
  return requirements
    .map(({ key, operator, values }) => {
      switch (operator) {
        case 'exists':
          return key;
        case '!exists':
          return `!${key}`;
        case 'in':
        case 'notin':
          // `(,)` is the set holding only the empty value: `()` is not a valid set.
          return `${key} ${operator} (${values.length === 1 && values[0] === '' ? ',' : values.join(',')})`;
        default:
          return `${key}${operator}${values[0]}`;
      }
    })
    .join(',');
}
