import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../../src/core/schema.js';
import { compileExpression, FUNCTION_NAMES } from '../../src/expr/index.js';
import { evaluate, typeOf } from './expression-fixture.js';

function cases(list: [string, unknown, string?][]): void {
  for (const [source, expected, type] of list) {
    assert.deepEqual(evaluate(source), expected, source);
    if (type) assert.equal(typeOf(source), type, `type of ${source}`);
  }
}

test('string functions', () => {
  cases([
    ["lower('AbC')", 'abc', 'string'], ['UPPER(country)', 'ES', 'string'], ["trim('  a b  ')", 'a b', 'string'],
    ["length('héllo')", 5, 'integer'], ["length('😀x')", 2],
    ["substr('hello', 2)", 'ello', 'string'], ["substr('hello', 2, 3)", 'ell'], ["substr('hello', 0, 2)", 'h'],
    ["substr('hello', -1, 3)", 'h'], ["substr('hello', 9)", ''], ["substr('hello', 2, -1)", null], ["substr('😀ab', 2, 1)", 'a'],
    ["concat(country, '-', views, '-', null, price, active, ratio)", 'ES-200-12.345true2.5', 'string'],
    ['concat(nothing)', ''], ['concat(day, ts)', '2026-02-282026-01-15T10:30:05.250Z'],
    ["replace('a.b.c', '.', '$&')", 'a$&b$&c', 'string'], ["replace('aaa', '', 'x')", 'aaa'],
    ["starts_with(country, 'E')", true, 'boolean'], ["ends_with(country, 'E')", false], ["contains('banana', 'nan')", true],
    ["matches(country, '^[A-Z]{2}$')", true, 'boolean'], ["matches('abc', 'B')", false], ["matches('abc', 'B', 'i')", true],
    ["matches('a1', '\\d')", true], ['lower(nothing)', null], ["starts_with(nothing, 'a')", null],
  ]);
});

test('null-handling functions: coalesce, if, nullif', () => {
  cases([
    ['coalesce(missing, clicks, 1)', 30, 'integer'], ['coalesce(missing, ratio)', 2.5, 'number'], ['coalesce(missing, null)', null],
    ['coalesce(nothing, country)', 'ES', 'string'], ['coalesce(missing, price)', 12.345, 'number'],
    ["if(views > 10, 'many', 'few')", 'many', 'string'], ['if(flag_null, 1, 2)', 2, 'integer'], ['if(active, 1, 0.5)', 1, 'number'],
    ['if(active, null, views)', null, 'integer'], ["if(active, day, '2026-01-01')", '2026-02-28', 'date'],
    ["case when active then ts else '2026-01-01' end", Date.UTC(2026, 0, 15, 10, 30, 5, 250), 'timestamp'],
    ['nullif(views, 200)', null, 'integer'], ['nullif(views, 1)', 200], ['nullif(views, missing)', 200], ['nullif(missing, 1)', null],
  ]);
});

test('numeric functions keep integers and exact decimals where the result allows it', () => {
  cases([
    ['abs(-3)', 3, 'integer'], ['abs(-2.5)', 2.5, 'number'], ['abs(-price)', 12.345, 'number'],
    ['round(2.5)', 3, 'number'], ['round(-2.5)', -3], ['round(2.4)', 2], ['round(1.005, 2)', 1.01], ['round(ratio, 0)', 3],
    ['round(1234, -2)', 1200, 'integer'], ['round(1250, -2)', 1300], ['round(-1250, -2)', -1300], ['round(7)', 7, 'integer'],
    ['round(price, 2)', '12.35', 'decimal'], ['round(price)', '12', 'decimal'], ['round(price, 5)', '12.34500'],
    ['floor(2.7)', 2, 'number'], ['floor(-2.2)', -3], ['ceil(2.1)', 3], ['floor(7)', 7, 'integer'],
    ['floor(price)', '12', 'decimal'], ['ceil(price)', '13', 'decimal'], ['floor(-price)', -13, 'number'],
    ['sqrt(16)', 4, 'number'], ['sqrt(-1)', null], ['ln(1)', 0, 'number'], ['ln(0)', null], ['log10(1000)', 3], ['exp(0)', 1],
    ['exp(1000)', null], ['pow(2, 10)', 1024, 'number'], ['pow(-8, 0.5)', null],
    ['least(3, 1, 2)', 1, 'integer'], ['greatest(3, 1, 2.5)', 3, 'number'], ['least(missing, 5)', 5], ['greatest(missing, null)', null],
    ["least('b', 'a')", 'a', 'string'], ["greatest(day, '2026-01-01')", '2026-02-28', 'date'], ["coalesce(nothing, 'x')", 'x'], ["least(ts, '2026-01-01')", Date.UTC(2026, 0, 1), 'timestamp'],
  ]);
  const s: Schema = [{ name: 'a', type: 'decimal' }, { name: 'b', type: 'decimal' }];
  assert.equal(compileExpression('greatest(a, b)', s).evaluate(['99999999999999999.1', '99999999999999999.2']), '99999999999999999.2');
  assert.equal(compileExpression('round(a, 1)', s).evaluate(['99999999999999999.95', '0']), '100000000000000000.0');
  assert.equal(compileExpression('round(a, 1)', s).evaluate(['-0.04', '0']), '0.0');
});

test('date and time functions work in UTC on timestamps and dates', () => {
  const ts = Date.UTC(2026, 0, 15, 10, 30, 5, 250);
  cases([
    ['date(ts)', '2026-01-15', 'date'], ['date(day)', '2026-02-28', 'date'], ["date('2026-03-04 23:00')", '2026-03-04'], ["date('nope')", null],
    ['year(ts)', 2026, 'integer'], ['month(ts)', 1], ['day(ts)', 15], ['hour(ts)', 10], ['minute(ts)', 30], ['second(ts)', 5],
    ['year(day)', 2026], ['month(day)', 2], ['day(day)', 28], ['hour(day)', 0],
    ['day_of_week(ts)', 4, 'integer'], ['day_of_week(day)', 6], ["day_of_week(date('2026-03-01'))", 0],
    ["date_trunc('day', ts)", Date.UTC(2026, 0, 15), 'timestamp'], ["date_trunc('hour', ts)", Date.UTC(2026, 0, 15, 10)],
    ["date_trunc('minute', ts)", Date.UTC(2026, 0, 15, 10, 30)], ["date_trunc('month', ts)", Date.UTC(2026, 0, 1)],
    ["date_trunc('year', ts)", Date.UTC(2026, 0, 1)], ["date_trunc('week', ts)", Date.UTC(2026, 0, 12)],
    ["date_trunc('MONTH', day)", Date.UTC(2026, 1, 1)],
    ['epoch_ms(ts)', ts, 'integer'], ['epoch_ms(day)', Date.UTC(2026, 1, 28)],
  ]);
  const old: Schema = [{ name: 't', type: 'timestamp' }];
  const before1970 = Date.UTC(1969, 11, 31, 23, 59, 59);
  assert.equal(compileExpression('hour(t)', old).evaluate([before1970]), 23);
  assert.equal(compileExpression('date(t)', old).evaluate([before1970]), '1969-12-31');
  assert.equal(compileExpression('day_of_week(t)', old).evaluate([before1970]), 3);
  assert.equal(compileExpression('date(t)', old).evaluate([Date.UTC(2024, 1, 29, 12)]), '2024-02-29');
});

test('conversion functions', () => {
  cases([
    ['to_string(views)', '200', 'string'], ['to_string(ratio)', '2.5'], ['to_string(price)', '12.345'], ['to_string(active)', 'true'],
    ['to_string(day)', '2026-02-28'], ['to_string(ts)', '2026-01-15T10:30:05.250Z'], ['to_string(payload)', '{"user":{"name":"ana","tags":["a","b"],"age":31},"odd key":true}'],
    ['to_string(missing)', null],
    ["to_number(' 1.5 ')", 1.5, 'number'], ["to_number('abc')", null], ["to_number('')", null], ['to_number(views)', 200, 'number'], ['to_number(price)', 12.345],
    ["to_integer('42')", 42, 'integer'], ["to_integer('4.2')", null], ["to_integer('99999999999999999999')", null],
    ['to_integer(2.5)', 3], ['to_integer(-2.5)', -3], ['to_integer(price)', 12], ['to_integer(views)', 200],
  ]);
});

test('json_get and json_text follow keys and indexes, only through own properties', () => {
  cases([
    ["json_get(payload, 'user', 'tags')", ['a', 'b'], 'json'], ["json_get(payload, 'user', 'tags', 1)", 'b'],
    ["json_text(payload, 'user', 'name')", 'ana', 'string'], ["json_text(payload, 'user', 'age')", '31'],
    ["json_text(payload, 'user')", '{"name":"ana","tags":["a","b"],"age":31}'], ["json_text(payload, 'odd key')", 'true'],
    ["json_get(payload, 'nope', 'x')", null], ["json_get(payload, 'user', 'tags', 5)", null],
    ["json_get(payload, 'constructor')", null], ["json_get(payload, '__proto__')", null], ["json_text(payload, 'toString')", null],
    ["json_get(payload, 'user', 'name', 'length')", null],
  ]);
  const s: Schema = [{ name: 'j', type: 'json' }];
  assert.deepEqual(compileExpression("json_get(j, '__proto__', 'x')", s).evaluate([JSON.parse('{"__proto__": {"x": 1}}')]), 1);
});

test('function names are case-insensitive and FUNCTION_NAMES lists every function', () => {
  assert.equal(evaluate("LoWeR('A')"), 'a');
  for (const name of ['lower', 'substr', 'matches', 'date_trunc', 'json_text', 'if', 'nullif', 'day_of_week', 'to_integer', 'greatest']) {
    assert.ok(FUNCTION_NAMES.includes(name), name);
  }
  assert.equal(FUNCTION_NAMES.length, 40);
});
