/**
 * A small OData `$filter` parser covering what the emulated routes accept: `eq`/`ne` comparisons,
 * order comparisons (`ge`, `gt`, `le`, `lt`), `and`/`or`/`not`, parentheses, `startsWith(prop,'x')`,
 * `prop/any(m:m eq 'x')`, and unquoted DateTimeOffset literals (`2026-01-02T03:04:05Z`).
 */

/** An unquoted DateTimeOffset literal, e.g. `2026-01-02T03:04:05Z`, as written. */
export interface DateTimeLiteral {
  dateTime: string;
}

/** A literal in a filter. */
export type Literal = string | number | boolean | null | DateTimeLiteral;

/** A leaf of a filter: comparison, order comparison, `startsWith` or `any` lambda. */
export type LeafNode =
  | { kind: "cmp"; prop: string; op: "eq" | "ne"; value: Literal }
  | { kind: "range"; prop: string; op: "ge" | "gt" | "le" | "lt"; value: Literal }
  | { kind: "startsWith"; prop: string; value: string }
  | { kind: "any"; prop: string; value: Literal };

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})/;

/** A parsed filter expression. */
export type FilterNode =
  | { kind: "and" | "or"; left: FilterNode; right: FilterNode }
  | { kind: "not"; expr: FilterNode }
  | LeafNode;

/** Thrown for a filter that does not parse; routes turn it into a 400. */
export class FilterSyntaxError extends Error {
  /** @param message - what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "FilterSyntaxError";
  }
}

type Token =
  | { t: "ident"; v: string }
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "date"; v: string }
  | { t: "punct"; v: "(" | ")" | "," | ":" };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "(" || c === ")" || c === "," || c === ":") {
      out.push({ t: "punct", v: c });
      i++;
    } else if (c === "'") {
      // OData escapes a quote inside a literal by doubling it.
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) {
          throw new FilterSyntaxError("Unterminated string literal.");
        }
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i];
        i++;
      }
      out.push({ t: "str", v: s });
    } else if (DATE_TIME.test(src.slice(i))) {
      const m = DATE_TIME.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "date", v: m[0] });
      i += m[0].length;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i));
      if (!m) {
        throw new FilterSyntaxError(`Unexpected character '${c}'.`);
      }
      out.push({ t: "num", v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_./]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "ident", v: m[0] });
      i += m[0].length;
    } else {
      throw new FilterSyntaxError(`Unexpected character '${c}'.`);
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): FilterNode {
    const node = this.or();
    if (this.pos < this.toks.length) {
      throw new FilterSyntaxError("Unexpected trailing input.");
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t?.t === "ident" && t.v.toLowerCase() === word;
  }

  private expectPunct(v: string): void {
    const t = this.toks[this.pos++];
    if (t?.t !== "punct" || t.v !== v) {
      throw new FilterSyntaxError(`Expected '${v}'.`);
    }
  }

  private ident(): string {
    const t = this.toks[this.pos++];
    if (t?.t !== "ident") {
      throw new FilterSyntaxError("Expected a property name.");
    }
    return t.v;
  }

  private literal(): Literal {
    const t = this.toks[this.pos++];
    if (!t) {
      throw new FilterSyntaxError("Expected a literal.");
    }
    if (t.t === "str" || t.t === "num") {
      return t.v;
    }
    if (t.t === "date") {
      return { dateTime: t.v };
    }
    if (t.t === "ident") {
      const w = t.v.toLowerCase();
      if (w === "true") {
        return true;
      }
      if (w === "false") {
        return false;
      }
      if (w === "null") {
        return null;
      }
    }
    throw new FilterSyntaxError("Expected a literal.");
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isKeyword("or")) {
      this.pos++;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isKeyword("and")) {
      this.pos++;
      left = { kind: "and", left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.isKeyword("not")) {
      this.pos++;
      return { kind: "not", expr: this.unary() };
    }
    const t = this.peek();
    if (t?.t === "punct" && t.v === "(") {
      this.pos++;
      const inner = this.or();
      this.expectPunct(")");
      return inner;
    }
    const name = this.ident();
    const next = this.peek();
    if (next?.t === "punct" && next.v === "(") {
      this.pos++;
      if (name.toLowerCase() === "startswith") {
        const prop = this.ident();
        this.expectPunct(",");
        const value = this.literal();
        this.expectPunct(")");
        if (typeof value !== "string") {
          throw new FilterSyntaxError("startsWith needs a string literal.");
        }
        return { kind: "startsWith", prop, value };
      }
      const slash = name.lastIndexOf("/");
      if (slash > 0 && name.slice(slash + 1).toLowerCase() === "any") {
        const v = this.ident();
        this.expectPunct(":");
        const v2 = this.ident();
        if (v2 !== v || !this.isKeyword("eq")) {
          throw new FilterSyntaxError("Only 'x/any(m:m eq value)' lambdas are supported.");
        }
        this.pos++;
        const value = this.literal();
        this.expectPunct(")");
        return { kind: "any", prop: name.slice(0, slash), value };
      }
      throw new FilterSyntaxError(`Unknown function '${name}'.`);
    }
    const op = this.ident().toLowerCase();
    if (op === "ge" || op === "gt" || op === "le" || op === "lt") {
      return { kind: "range", prop: name, op, value: this.literal() };
    }
    if (op !== "eq" && op !== "ne") {
      throw new FilterSyntaxError(`Unsupported operator '${op}'.`);
    }
    return { kind: "cmp", prop: name, op, value: this.literal() };
  }
}

/**
 * Parses an OData `$filter` expression.
 *
 * @param src - the filter text (already URL-decoded)
 * @returns the expression tree
 * @throws FilterSyntaxError when it does not parse
 */
export function parseFilter(src: string): FilterNode {
  const toks = tokenize(src);
  if (toks.length === 0) {
    throw new FilterSyntaxError("Empty filter.");
  }
  return new Parser(toks).parse();
}

/**
 * Visits every leaf (comparison, function, lambda) of a filter.
 *
 * @param node - the expression
 * @param visit - called per leaf with whether it sits under a `not`
 */
export function forEachLeaf(
  node: FilterNode,
  visit: (leaf: LeafNode, negated: boolean) => void,
  negated = false,
): void {
  if (node.kind === "and" || node.kind === "or") {
    forEachLeaf(node.left, visit, negated);
    forEachLeaf(node.right, visit, negated);
  } else if (node.kind === "not") {
    forEachLeaf(node.expr, visit, true);
  } else {
    visit(node as LeafNode, negated);
  }
}

/**
 * Compiles a filter to a predicate given a leaf evaluator.
 *
 * @param node - the expression
 * @param leaf - evaluates one leaf against an item
 * @returns the predicate
 */
export function compileFilter<T>(
  node: FilterNode,
  leaf: (l: LeafNode) => (item: T) => boolean,
): (item: T) => boolean {
  switch (node.kind) {
    case "and": {
      const a = compileFilter(node.left, leaf);
      const b = compileFilter(node.right, leaf);
      return (x) => a(x) && b(x);
    }
    case "or": {
      const a = compileFilter(node.left, leaf);
      const b = compileFilter(node.right, leaf);
      return (x) => a(x) || b(x);
    }
    case "not": {
      const a = compileFilter(node.expr, leaf);
      return (x) => !a(x);
    }
    default:
      return leaf(node);
  }
}
