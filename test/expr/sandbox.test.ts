import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressionError } from '../../src/core/errors.js';
import type { Schema } from '../../src/core/schema.js';
import { Checker } from '../../src/expr/checker.js';
import { generate } from '../../src/expr/codegen.js';
import { compileExpression } from '../../src/expr/index.js';
import { parse } from '../../src/expr/parser.js';

const SCHEMA: Schema = [{ name: 'views', type: 'integer' }, { name: 'name', type: 'string' }];
const ROW = [5, 'x'];

const ATTEMPTS = [
  'constructor', 'this', 'globalThis', 'global', 'process', 'process.exit(1)', 'process["exit"](1)', "require('fs')", "import('fs')",
  "constructor.constructor('return process')()", "''.constructor", "name.constructor", 'toString()', 'toString', '__proto__',
  '__proto__.polluted', 'valueOf(1)', "hasOwnProperty('x')", 'eval("1")', 'Function("return process")()', 'arguments', 'r', 'f', 'c',
  'r[0]', 'f.lower', 'to_num(1)', 'overflow(1, 1)', 'dcmp(1, 2)', 'prototype', 'lower.call(1)', 'views; process.exit(1)',
  "`; process.exit(1); //`", "`]) + process.exit(1) + ([`", "`'`", "````", '`)`', '${process.exit(1)}', 'x => 1', '() => process',
  '[1].map(process.exit)', '{}', 'new Date()', 'typeof process', 'void 0', 'views /* */ + 1', 'views // comment',
  "'\\u2028' + process", 'concat(\'\u2028\', name) = name or process', 'lower(name) -- comment',
];

/** Strings that would break out of a naive code generator; the language must treat them as plain data. */
const DATA_STRINGS = [
  '"); process.exit(1); ("', "'+process.exit(1)+'", '\\', '\\\\"', '\n', '\r\n', '\u2028', '\u2029', '${process.exit(1)}',
  '`); process.exit(1); //', '</script>', '\u0000', '\ud800', '*/ process.exit(1) /*',
];

function sqlQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function assertHostUntouched(exitBefore: typeof process.exit, envKeys: number): void {
  const g = globalThis as { __pwned?: unknown };
  assert.equal(g.__pwned, undefined, 'the global sentinel is untouched');
  assert.equal(process.exit, exitBefore, 'process.exit is unchanged');
  assert.equal(process.exitCode, undefined, 'no exit code was set');
  assert.equal(Object.keys(process.env).length, envKeys, 'process.env is unchanged');
  assert.equal(({} as { polluted?: unknown }).polluted, undefined, 'Object.prototype is not polluted');
}

test('escape attempts fail to compile with an ExpressionError or evaluate harmlessly as data', () => {
  const exitBefore = process.exit;
  const envKeys = Object.keys(process.env).length;
  const exitCalls: unknown[] = [];
  // A trap: if anything reached process.exit, the test records it instead of the process dying.
  process.exit = ((code?: number) => {
    exitCalls.push(code);
    throw new Error('process.exit reached');
  }) as typeof process.exit;
  try {
    for (const source of ATTEMPTS) {
      try {
        const compiled = compileExpression(source, SCHEMA);
        const value = compiled.evaluate(ROW);
        assert.ok(value === null || ['string', 'number', 'boolean'].includes(typeof value), `${source} evaluated to data`);
      } catch (err) {
        assert.ok(err instanceof ExpressionError, `${JSON.stringify(source)} threw ${String(err)}`);
      }
    }
    for (const s of DATA_STRINGS) {
      assert.equal(compileExpression(sqlQuote(s), SCHEMA).evaluate(ROW), s, `string literal ${JSON.stringify(s)}`);
      assert.equal(compileExpression(`concat(${sqlQuote(s)}, name)`, SCHEMA).evaluate(ROW), `${s}x`);
      assert.equal(compileExpression(`name = ${sqlQuote(s)}`, SCHEMA).evaluate([1, s]), true);
      assert.equal(compileExpression(`matches(name, ${sqlQuote(s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))})`, SCHEMA).evaluate([1, s]), true);
    }
  } finally {
    process.exit = exitBefore;
  }
  (globalThis as { __pwned?: unknown }).__pwned = undefined;
  assert.deepEqual(exitCalls, []);
  assertHostUntouched(exitBefore, envKeys);
});

test('columns named like JavaScript internals are ordinary columns, plain or backticked', () => {
  const names = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'process', 'this', 'r', 'f', 'c', 't0'];
  const schema: Schema = names.map((name) => ({ name, type: 'integer' }));
  const row = names.map((_, i) => i + 1);
  names.forEach((name, i) => {
    assert.equal(compileExpression(name, schema).evaluate(row), i + 1, name);
    assert.equal(compileExpression(`\`${name}\` * 10`, schema).evaluate(row), (i + 1) * 10, `\`${name}\``);
  });
  assert.equal(compileExpression('constructor + __proto__ + toString', schema).evaluate(row), 6);
});

test('backticked names may hold any characters, including quotes, brackets and backticks', () => {
  const names = ['a]b', 'x)', "it's", 'back`tick', '"); process.exit(1); ("', 'r[0]', '\u2028', 'a\\b', '${x}'];
  const schema: Schema = names.map((name) => ({ name, type: 'string' }));
  const row = names.map((n) => `value of ${n}`);
  for (const [i, name] of names.entries()) {
    const quoted = `\`${name.replace(/`/g, '``')}\``;
    assert.equal(compileExpression(quoted, schema).evaluate(row), row[i], quoted);
  }
});

test('generated code never contains text the user wrote', () => {
  const schema: Schema = [{ name: 'process', type: 'string' }, { name: 'exit', type: 'string' }];
  const source = "concat(process, 'process.exit(1)', \"require('fs')\") = exit and matches(process, 'globalThis')";
  const { source: js } = generate(new Checker(schema).check(parse(source)));
  for (const word of ['process', 'exit', 'require', 'globalThis', 'fs']) assert.ok(!js.includes(word), `${word} in ${js}`);
});

test('nesting deeper than 256 levels is rejected with a clear error instead of overflowing the stack', () => {
  const deep = [
    `${'('.repeat(10_000)}1${')'.repeat(10_000)}`,
    `${'-'.repeat(10_000)}1`,
    `${'not '.repeat(10_000)}true`,
    `${'lower('.repeat(300)}'a'${')'.repeat(300)}`,
    Array.from({ length: 300 }, () => 'views').join(' + '),
    `${'abs('.repeat(5_000)}1`,
  ];
  for (const source of deep) {
    assert.throws(() => compileExpression(source, SCHEMA), (err: unknown) => err instanceof ExpressionError && /nests too deeply.*256/.test(err.message), source.slice(0, 30));
  }
  assert.equal(compileExpression(`${'('.repeat(200)}views${')'.repeat(200)}`, SCHEMA).evaluate(ROW), 5);
});

test('long flat inputs compile and evaluate: long and/or chains, long in-lists, long strings', () => {
  const orChain = Array.from({ length: 5_000 }, (_, i) => `views = ${i + 10}`).join(' or ');
  assert.equal(compileExpression(orChain, SCHEMA).evaluate(ROW), false);
  assert.equal(compileExpression(orChain, SCHEMA).evaluate([4_000, 'x']), true);
  const inList = `views in (${Array.from({ length: 50_000 }, (_, i) => i * 2 + 1).join(', ')})`;
  assert.equal(compileExpression(inList, SCHEMA).evaluate(ROW), true);
  const big = 'x'.repeat(1_000_000);
  assert.equal(compileExpression(`length('${big}')`, SCHEMA).evaluate(ROW), 1_000_000);
  const coalesce = `coalesce(${Array.from({ length: 2_000 }, () => 'null').join(', ')}, views)`;
  assert.equal(compileExpression(coalesce, SCHEMA).evaluate(ROW), 5);
});
