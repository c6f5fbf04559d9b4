// worker/pg/sql.ts: identifier and literal quoting as PostgreSQL does it.
import { describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral, quoteQualified } from '../../../../worker/pg/sql';

describe('quoteIdent and quoteLiteral', () => {
  it('quotes identifiers always, doubling quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('My "odd" Table')).toBe('"My ""odd"" Table"');
    expect(quoteQualified('s', 't"x')).toBe('"s"."t""x"');
    expect(() => quoteIdent('a\0b')).toThrow();
  });
  it("quotes literals as quote_literal does: quotes doubled, E'' when there is a backslash", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('C:\\path')).toBe("E'C:\\\\path'");
    expect(quoteLiteral("a\\'b")).toBe("E'a\\\\''b'");
    expect(quoteLiteral('')).toBe("''");
  });
});
