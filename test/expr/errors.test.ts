import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressionError } from '../../src/core/errors.js';
import type { Schema } from '../../src/core/schema.js';
import { compileExpression } from '../../src/expr/index.js';
import { SCHEMA } from './expression-fixture.js';

function errorOf(source: string, schema: Schema = SCHEMA): ExpressionError {
  try {
    compileExpression(source, schema);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `${source}: expected ExpressionError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${source} compiled but should not`);
}

function rejects(source: string, column: number, message: RegExp, schema: Schema = SCHEMA): void {
  const err = errorOf(source, schema);
  assert.equal(err.column, column, `${source}: column (message: ${err.message})`);
  assert.match(err.message, message, source);
  assert.match(err.message, new RegExp(`column ${column}\\b`), `${source}: the message names the column`);
  assert.equal(err.retryable, false);
}

test('a missing operand is reported at the end of the expression', () => {
  rejects('views > ', 9, /unexpected end of expression/);
  rejects('views +', 8, /end of expression/);
  rejects('', 1, /empty/);
});

test('an operator where a value belongs is reported at that operator', () => {
  rejects('views >> 2', 8, /unexpected '>'/);
  rejects('views * * 2', 9, /unexpected '\*'/);
  rejects('(views', 7, /expected '\)'/);
  rejects('views)', 6, /unexpected '\)'/);
  rejects('views 2', 7, /unexpected number 2/);
  rejects('1 < views < 3', 11, /cannot be chained/);
  rejects('case when true then 1', 22, /expected 'end'/);
  rejects('views in 1, 2', 10, /expected '\('/);
  rejects('views is 1', 10, /expected 'null'/);
});

test('strings and quoted names that never close are reported where they open', () => {
  rejects("country = 'ES", 11, /unterminated string/);
  rejects('country = "ES', 11, /unterminated string/);
  rejects("'it''s", 1, /unterminated string/);
  rejects('`views + 1', 1, /unterminated column name/);
});

test('characters outside the language are rejected at their column', () => {
  rejects('views.length', 6, /unexpected character '\.'.*no member access/);
  rejects('views || 1', 7, /unexpected character '\|'/);
  rejects('views ! 1', 7, /unexpected character '!'/);
  rejects('views; 1', 6, /unexpected character ';'/);
  rejects('12abc', 1, /malformed number/);
  rejects('1.2.3', 1, /malformed number/);
  rejects('views = 9007199254740993', 9, /outside/);
});

test('an unknown column suggests the closest name', () => {
  const err = errorOf('1 + vews', [{ name: 'views', type: 'integer' }, { name: 'clicks', type: 'integer' }]);
  assert.equal(err.message, "unknown column 'vews' at column 5; did you mean 'views'?");
  assert.equal(err.column, 5);
  rejects('zzz > 1', 1, /unknown column 'zzz'.*the columns are 'a', 'b'/, [{ name: 'a', type: 'integer' }, { name: 'b', type: 'integer' }]);
  rejects('`Views` > 1', 1, /did you mean 'views'/);
});

test('an unknown function suggests the closest name, and wrong arity shows the signature', () => {
  rejects("views > 1 and lowr(country) = 'es'", 15, /unknown function 'lowr'.*did you mean 'lower'\?/);
  rejects('substr(country)', 1, /substr\(\) takes 2 to 3 arguments, got 1.*substr\(s, start\[, length\]\)/);
  rejects("lower('a', 'b')", 1, /takes 1 argument, got 2/);
  rejects('coalesce()', 1, /at least 1/);
  rejects('views(1)', 1, /unknown function 'views'.*is a column/);
  rejects('lower + 1', 1, /unknown column 'lower'.*is a function/);
});

test('type errors name both types and the operator column', () => {
  rejects('country > 5', 9, /cannot compare string with integer at column 9/);
  rejects("views = 'x'", 7, /cannot compare integer with string/);
  rejects("country + 'x'", 9, /cannot apply '\+' to string and string.*concat/);
  rejects('payload = payload', 9, /cannot compare json with json.*json_text/);
  rejects("ts > 'yesterday'", 6, /'yesterday' at column 6 is not a valid timestamp/);
  rejects("day = '2026-02-30'", 7, /not a valid date/);
  rejects('views and active', 1, /'and' needs a boolean at column 1, got integer/);
  rejects("lower(views)", 7, /lower\(\) expects a string as argument 1, got integer at column 7.*to_string/);
  rejects("substr(country, 1.5)", 17, /expects a integer as argument 2, got number/);
  rejects("date_trunc('fortnight', ts)", 12, /accepts the units/);
  rejects("date_trunc(country, ts)", 12, /as a literal/);
  rejects("matches(country, country)", 18, /as a literal/);
  rejects("matches(country, '(')", 18, /invalid regular expression/);
  rejects("matches(country, 'a', 'g')", 23, /flags/);
  rejects("json_get(payload, country)", 19, /string literal/);
  rejects("coalesce(views, country)", 17, /cannot mix integer and string/);
  rejects("if(views, 1, 2)", 4, /expects a boolean/);
  rejects("case when active then 'a' else 1 end", 1, /case branches mix/);
});

test('errors carry the column also for inputs with tabs and newlines', () => {
  rejects('views >\n\tvewz', 10, /unknown column 'vewz'/);
});
