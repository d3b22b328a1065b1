import t, { type Test } from 'tap';
import { BadRequestError } from '../../protocols/errors.js';
import { UUID, fieldsOf, int, isUuid, oneOf, optBool, optInt, optStr, str, stringMap } from '../../protocols/validate.js';


/** Asserts a BadRequestError with exactly this message. */
function bad(t: Test, fn: () => unknown, message: string, what = message): void {
  try {
    fn();
    t.fail(`${what}: expected a BadRequestError`);
  } catch (e) {
    t.ok(e instanceof BadRequestError, `${what}: BadRequestError`);
    t.equal((e as Error).message, message, `${what}: message`);
  }
}

t.test('fieldsOf', async (t) => {
  const body = { name: 'vm', flavorRef: '1' };
  t.equal(fieldsOf(body, ['name', 'flavorRef', 'metadata'], 'server'), body, 'returns the body itself');
  t.same(fieldsOf({}, ['name'], 'server'), {}, 'allowed fields are optional here');
  for (const v of [null, undefined, 'x', 1, true, [], [1]]) {
    bad(t, () => fieldsOf(v, ['name'], 'server'), 'server must be an object', `body ${JSON.stringify(v)}`);
  }
  bad(t, () => fieldsOf({ name: 'a', evil: 1, other: 2 }, ['name'], 'server'), 'server: unknown field(s) evil, other');
  bad(t, () => fieldsOf({ __proto__x: 1 }, [], 'x'), 'x: unknown field(s) __proto__x');
});

t.test('str', async (t) => {
  t.equal(str({ a: 'hello' }, 'a'), 'hello');
  t.equal(str({ a: 'x' }, 'a'), 'x', 'default min is 1');
  t.equal(str({ a: 'x'.repeat(255) }, 'a'), 'x'.repeat(255), 'default max is 255');
  bad(t, () => str({ a: '' }, 'a'), "'a' must be 1-255 characters", 'empty');
  bad(t, () => str({ a: 'x'.repeat(256) }, 'a'), "'a' must be 1-255 characters", '256 chars');
  t.equal(str({ a: '' }, 'a', { min: 0 }), '', 'min 0 allows empty');
  t.equal(str({ a: 'abc' }, 'a', { min: 3, max: 3 }), 'abc');
  bad(t, () => str({ a: 'ab' }, 'a', { min: 3, max: 5 }), "'a' must be 3-5 characters", 'too short');
  bad(t, () => str({ a: 'abcdef' }, 'a', { min: 3, max: 5 }), "'a' must be 3-5 characters", 'too long');
  t.equal(str({ a: 'abc' }, 'a', { pattern: /^[a-c]+$/ }), 'abc');
  bad(t, () => str({ a: 'abd' }, 'a', { pattern: /^[a-c]+$/ }), "'a' has an invalid format");
  for (const v of [undefined, null, 1, true, {}, ['x']]) {
    bad(t, () => str({ a: v }, 'a'), "'a' must be a string", `value ${JSON.stringify(v)}`);
  }
  bad(t, () => str({}, 'missing'), "'missing' must be a string", 'missing key');
});

t.test('optStr', async (t) => {
  t.equal(optStr({}, 'a'), undefined, 'absent');
  t.equal(optStr({ a: null }, 'a'), undefined, 'null');
  t.equal(optStr({ a: 'v' }, 'a'), 'v');
  bad(t, () => optStr({ a: 3 }, 'a'), "'a' must be a string");
  bad(t, () => optStr({ a: '' }, 'a'), "'a' must be 1-255 characters", 'empty is not absent');
  bad(t, () => optStr({ a: 'zz' }, 'a', { pattern: /^a/ }), "'a' has an invalid format");
});

t.test('int', async (t) => {
  t.equal(int({ n: 0 }, 'n'), 0, 'default min is 0');
  t.equal(int({ n: 2 ** 31 - 1 }, 'n'), 2 ** 31 - 1, 'default max is 2^31-1');
  bad(t, () => int({ n: -1 }, 'n'), "'n' must be between 0 and 2147483647", 'negative by default');
  bad(t, () => int({ n: 2 ** 31 }, 'n'), "'n' must be between 0 and 2147483647", '2^31');
  t.equal(int({ n: -5 }, 'n', { min: -10, max: 10 }), -5);
  bad(t, () => int({ n: 11 }, 'n', { min: -10, max: 10 }), "'n' must be between -10 and 10");
  bad(t, () => int({ n: 0 }, 'n', { min: 1 }), "'n' must be between 1 and 2147483647");
  for (const v of [1.5, NaN, Infinity, -Infinity, '1', null, undefined, true, [1], {}]) {
    bad(t, () => int({ n: v }, 'n'), "'n' must be an integer", `value ${String(v)}`);
  }
});

t.test('optInt', async (t) => {
  t.equal(optInt({}, 'n'), undefined);
  t.equal(optInt({ n: null }, 'n'), undefined);
  t.equal(optInt({ n: 7 }, 'n'), 7);
  bad(t, () => optInt({ n: 'x' }, 'n'), "'n' must be an integer");
  bad(t, () => optInt({ n: 7 }, 'n', { max: 5 }), "'n' must be between 0 and 5");
});

t.test('optBool', async (t) => {
  t.equal(optBool({}, 'b'), undefined);
  t.equal(optBool({ b: null }, 'b'), undefined);
  t.equal(optBool({ b: true }, 'b'), true);
  t.equal(optBool({ b: false }, 'b'), false);
  for (const v of ['true', 1, 0, {}, []]) bad(t, () => optBool({ b: v }, 'b'), "'b' must be a boolean", `value ${JSON.stringify(v)}`);
});

t.test('stringMap', async (t) => {
  t.same(stringMap({}, 'm'), {}, 'absent is empty');
  t.same(stringMap({ m: null }, 'm'), {}, 'null is empty');
  const m = { a: '1', b: '' };
  t.equal(stringMap({ m }, 'm'), m, 'returns the map itself');
  t.same(stringMap({ m: { ['k'.repeat(255)]: 'v'.repeat(255) } }, 'm'), { ['k'.repeat(255)]: 'v'.repeat(255) }, '255/255 is fine');
  for (const v of ['x', 1, true, [], [['a', 'b']]]) {
    bad(t, () => stringMap({ m: v }, 'm'), "'m' must be an object of strings", `value ${JSON.stringify(v)}`);
  }
  const each = "'m' keys and values must be strings of at most 255 characters";
  bad(t, () => stringMap({ m: { a: 1 } }, 'm'), each, 'number value');
  bad(t, () => stringMap({ m: { a: null } }, 'm'), each, 'null value');
  bad(t, () => stringMap({ m: { a: { b: 'c' } } }, 'm'), each, 'nested value');
  bad(t, () => stringMap({ m: { '': 'v' } }, 'm'), each, 'empty key');
  bad(t, () => stringMap({ m: { ['k'.repeat(256)]: 'v' } }, 'm'), each, '256-char key');
  bad(t, () => stringMap({ m: { a: 'v'.repeat(256) } }, 'm'), each, '256-char value');
  const three = { a: '1', b: '2', c: '3' };
  t.same(stringMap({ m: three }, 'm', 3), three, 'exactly maxItems');
  bad(t, () => stringMap({ m: three }, 'm', 2), "'m' has more than 2 items");
  const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  bad(t, () => stringMap({ m: many }, 'm'), "'m' has more than 128 items", 'default limit 128');
});

t.test('oneOf', async (t) => {
  const kinds = ['SOFT', 'HARD'] as const;
  t.equal(oneOf({ type: 'HARD' }, 'type', kinds), 'HARD');
  t.equal(oneOf({}, 'type', kinds, 'SOFT'), 'SOFT', 'fallback when absent');
  t.equal(oneOf({ type: null }, 'type', kinds, 'SOFT'), 'SOFT', 'fallback when null');
  t.equal(oneOf({ type: 'HARD' }, 'type', kinds, 'SOFT'), 'HARD', 'a given value beats the fallback');
  for (const v of ['soft', 'MEDIUM', '', 1, true, undefined]) {
    bad(t, () => oneOf({ type: v }, 'type', kinds), "'type' must be one of SOFT, HARD", `value ${JSON.stringify(v)}`);
  }
  bad(t, () => oneOf({ type: 'toString' }, 'type', kinds), "'type' must be one of SOFT, HARD", 'a prototype name');
});

t.test('isUuid / UUID', async (t) => {
  for (const u of ['b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11', 'B3E6A1A0-1C4F-4C1E-9A57-0E5F0F7D6A11', '00000000-0000-0000-0000-000000000000']) {
    t.ok(isUuid(u), `${u} is a uuid`);
    t.ok(UUID.test(u));
  }
  for (const u of [
    '', 'b3e6a1a01c4f4c1e9a570e5f0f7d6a11', 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a1', 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a111',
    'g3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11', ' b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11', 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11\n',
    '{b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11}',
  ]) {
    t.notOk(isUuid(u), `${JSON.stringify(u)} is not a uuid`);
  }
});
