import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransformError } from '../../src/core/errors.js';
import type { Schema } from '../../src/core/schema.js';
import { compileExpression } from '../../src/expr/index.js';
import { evaluate, typeOf } from './expression-fixture.js';

function cases(list: [string, unknown, string?][]): void {
  for (const [source, expected, type] of list) {
    assert.deepEqual(evaluate(source), expected, source);
    if (type) assert.equal(typeOf(source), type, `type of ${source}`);
  }
}

test('literals evaluate to their values and types', () => {
  cases([
    ['42', 42, 'integer'],
    ['1.5', 1.5, 'number'],
    ['2e3', 2000, 'number'],
    ["'it''s'", "it's", 'string'],
    ["'it\\'s'", "it's", 'string'],
    ['"say \\"hi\\""', 'say "hi"', 'string'],
    ["'a\\nb\\t\\\\'", 'a\nb\t\\', 'string'],
    ["'\\d+'", '\\d+', 'string'],
    ["'\\u00e9'", 'é', 'string'],
    ['TRUE', true, 'boolean'],
    ['false', false, 'boolean'],
    ['null', null, 'string'],
  ]);
});

test('columns are read by name, plain or backticked, and keywords need backticks', () => {
  const schema: Schema = [{ name: 'end', type: 'integer' }, { name: 'a b', type: 'string' }, { name: 'x`y', type: 'integer' }];
  assert.equal(compileExpression('`end` + 1', schema).evaluate([1, 'q', 5]), 2);
  assert.equal(compileExpression('`a b`', schema).evaluate([1, 'q', 5]), 'q');
  assert.equal(compileExpression('`x``y` * 2', schema).evaluate([1, 'q', 5]), 10);
  assert.equal(evaluate('views'), 200);
});

test('integer arithmetic stays integer, anything with a number or decimal becomes number', () => {
  cases([
    ['views + clicks', 230, 'integer'],
    ['views - clicks * 2', 140, 'integer'],
    ['views % 7', 4, 'integer'],
    ['-views', -200, 'integer'],
    ['- -views', 200, 'integer'],
    ['views + ratio', 202.5, 'number'],
    ['price + 1', 13.345, 'number'],
    ['-price', -12.345, 'number'],
    ['(views + clicks) * 2', 460, 'integer'],
  ]);
});

test('division is always real division, unlike SQL integer division', () => {
  cases([
    ['clicks / views', 0.15, 'number'],
    ['7 / 2', 3.5, 'number'],
    ['views / 2', 100, 'number'],
  ]);
});

test('division and modulo by zero give null instead of failing', () => {
  cases([
    ['views / 0', null],
    ['views % 0', null],
    ['ratio / 0', null],
    ['ratio % 0.0', null],
  ]);
});

test('arithmetic results that are not finite numbers become null', () => {
  cases([['1e300 * 1e300', null], ['-1e300 * 1e300', null]]);
});

test('integer arithmetic beyond the safe range fails the row with a TransformError', () => {
  const e = compileExpression('views * 9007199254740991', [{ name: 'views', type: 'integer' }]);
  assert.throws(() => e.evaluate([2]), (err: unknown) => err instanceof TransformError && /overflow/.test(err.message));
  assert.equal(e.evaluate([1]), 9007199254740991);
});

test('null propagates through arithmetic and comparison', () => {
  cases([
    ['missing + 1', null, 'integer'],
    ['1 + null', null, 'integer'],
    ['-missing', null],
    ['missing > 1', null, 'boolean'],
    ['missing = null', null],
    ['nothing = country', null],
  ]);
});

test('comparisons work on numbers, strings, booleans, dates, timestamps and decimals', () => {
  cases([
    ['views = 200', true], ['views == 200', true], ['views != 200', false], ['views <> 201', true],
    ['views < 201', true], ['views <= 200', true], ['views > 200', false], ['views >= 200', true],
    ['ratio > views', false], ['views = 200.0', true],
    ["country = 'ES'", true], ["country < 'FR'", true], ["'b' > 'a'", true],
    ['active = true', true], ['false < true', true],
    ["day = '2026-02-28'", true], ["day > '2026-02-27'", true], ["day < '2026-03-01 00:00:01'", true],
    ["ts >= '2026-01-01'", true], ["ts < '2026-01-15T10:30:05.251Z'", true], ["ts > '2026-01-15 11:00+01:00'", true],
    ["ts < day", true],
    ['price > 12', true], ['price = 12.345', true],
  ]);
  const s: Schema = [{ name: 'a', type: 'decimal' }, { name: 'b', type: 'decimal' }];
  const eq = compileExpression('a = b', s), lt = compileExpression('a < b', s);
  assert.equal(eq.evaluate(['1.50', '1.5']), true);
  assert.equal(lt.evaluate(['12345678901234567890.1', '12345678901234567890.2']), true, 'decimals compare exactly, not through a double');
  assert.equal(lt.evaluate(['-2', '-10']), false);
});

test('and, or, not follow SQL three-valued logic', () => {
  cases([
    ['active and true', true], ['active and false', false],
    ['flag_null and false', false], ['flag_null and true', null], ['flag_null and flag_null', null],
    ['flag_null or true', true], ['flag_null or false', null], ['active or flag_null', true],
    ['not active', false], ['not flag_null', null], ['NOT not active', true],
    ['views > 1 AND clicks > 1 Or false', true],
  ]);
});

test('precedence: not binds looser than comparison, and binds tighter than or, * tighter than +', () => {
  cases([
    ['1 + 2 * 3', 7], ['(1 + 2) * 3', 9], ['10 - 4 - 3', 3], ['2 * 3 % 4', 2],
    ['true or false and false', true], ['not views = 1', true], ['-2 * -3', 6],
  ]);
});

test('is null and is not null test for null without propagating it', () => {
  cases([
    ['missing is null', true], ['missing is not null', false], ['views IS NULL', false],
    ['(missing + 1) is null', true], ['payload is not null', true],
  ]);
});

test('in and not in compare against a list with SQL null rules', () => {
  cases([
    ["country in ('ES', 'FR')", true], ["country in ('DE')", false], ["country not in ('ES')", false],
    ['views in (1, 200.0)', true], ['views in (1, null)', null], ['views in (200, null)', true],
    ['views not in (1, null)', null], ['missing in (1, 2)', null],
    ['views in (clicks, views)', true], ['views in (missing, 1)', null],
    ["day in ('2026-02-28', '2026-03-01')", true], ["ts in ('2026-01-15 10:30:05.250')", true],
  ]);
  const many = Array.from({ length: 50 }, (_, i) => i * 10).join(', ');
  assert.equal(evaluate(`views in (${many})`), true);
  assert.equal(evaluate(`views + 1 in (${many})`), false);
  assert.equal(evaluate(`views not in (${many})`), false);
});

test('between includes both ends and follows SQL null rules', () => {
  cases([
    ['views between 100 and 200', true], ['views between 201 and 300', false], ['views not between 1 and 2', true],
    ['views between null and 100', false], ['views between null and 300', null], ['missing between 1 and 2', null],
    ["day between '2026-01-01' and '2026-12-31'", true], ['ratio between 2 and 3', true],
  ]);
});

test('case returns the first branch whose condition is true, else the else branch or null', () => {
  cases([
    ["case when views > 100 then 'big' when views > 10 then 'mid' else 'small' end", 'big', 'string'],
    ["case when views > 1000 then 'big' end", null, 'string'],
    ['case when flag_null then 1 else 2 end', 2, 'integer'],
    ['case when active then 1 else 2.5 end', 1, 'number'],
    ['case when false then null else views end', 200, 'integer'],
  ]);
  const branches = Array.from({ length: 100 }, (_, i) => `when views = ${i * 5} then ${i}`).join(' ');
  assert.equal(evaluate(`case ${branches} else -1 end`), 40);
});

test('mixing types is rejected at compile time: string + string, and/or on non-booleans, unlike branches', () => {
  for (const source of ["country + 'x'", 'views and true', "case when active then 1 else 'x' end", 'not views', 'ts + 1', '-country', "views in ('a')"]) {
    assert.throws(() => compileExpression(source, [
      { name: 'views', type: 'integer' }, { name: 'country', type: 'string' }, { name: 'active', type: 'boolean' }, { name: 'ts', type: 'timestamp' },
    ]), { name: 'ExpressionError' }, source);
  }
});
