import t from 'tap';
import {
  BadRequestError, ConflictError, ForbiddenError, InternalError, NoValidHostError, NotFoundError, NovactError,
  OverLimitError, TimeoutError, UnavailableError, asNovactError, fromWire, type FaultName, type WireError,
} from '../../protocols/errors.js';

interface Case {
  make: () => NovactError;
  cls: new (...args: never[]) => NovactError;
  name: string;
  fault: FaultName;
  code: number;
  retryable: boolean;
  details?: Record<string, unknown>;
  faultKey: string;
}

const CASES: Case[] = [
  { make: () => new BadRequestError('bad', { field: 'name' }), cls: BadRequestError, name: 'BadRequestError', fault: 'badRequest', code: 400, retryable: false, details: { field: 'name' }, faultKey: 'badRequest' },
  { make: () => new BadRequestError('bad'), cls: BadRequestError, name: 'BadRequestError', fault: 'badRequest', code: 400, retryable: false, faultKey: 'badRequest' },
  { make: () => new NovactError('unauthorized', 401, 'who are you'), cls: NovactError, name: 'NovactError', fault: 'unauthorized', code: 401, retryable: false, faultKey: 'unauthorized' },
  { make: () => new ForbiddenError('no'), cls: ForbiddenError, name: 'ForbiddenError', fault: 'forbidden', code: 403, retryable: false, faultKey: 'forbidden' },
  { make: () => new NotFoundError('gone'), cls: NotFoundError, name: 'NotFoundError', fault: 'itemNotFound', code: 404, retryable: false, faultKey: 'itemNotFound' },
  { make: () => new ConflictError('busy', { task: 'deleting' }), cls: ConflictError, name: 'ConflictError', fault: 'conflictingRequest', code: 409, retryable: false, details: { task: 'deleting' }, faultKey: 'conflictingRequest' },
  { make: () => new OverLimitError('quota'), cls: OverLimitError, name: 'OverLimitError', fault: 'overLimit', code: 413, retryable: false, faultKey: 'overLimit' },
  { make: () => new NoValidHostError('No valid host was found.', { filters: { RamFilter: 3 } }), cls: NoValidHostError, name: 'NoValidHostError', fault: 'noValidHost', code: 500, retryable: false, details: { filters: { RamFilter: 3 } }, faultKey: 'computeFault' },
  { make: () => new InternalError('oops'), cls: InternalError, name: 'InternalError', fault: 'computeFault', code: 500, retryable: false, faultKey: 'computeFault' },
  { make: () => new InternalError('crashed, try again', true), cls: InternalError, name: 'InternalError', fault: 'computeFault', code: 500, retryable: true, faultKey: 'computeFault' },
  { make: () => new UnavailableError('down'), cls: UnavailableError, name: 'UnavailableError', fault: 'serviceUnavailable', code: 503, retryable: true, faultKey: 'serviceUnavailable' },
  { make: () => new TimeoutError('slow'), cls: TimeoutError, name: 'TimeoutError', fault: 'timeout', code: 504, retryable: true, faultKey: 'computeFault' },
];

t.test('every error carries its fault, code, retryability and name', async (t) => {
  for (const c of CASES) {
    const e = c.make();
    t.ok(e instanceof c.cls, `${c.name} instanceof its class`);
    t.ok(e instanceof NovactError && e instanceof Error, `${c.name} is a NovactError and an Error`);
    t.equal(e.name, c.name);
    t.equal(e.fault, c.fault, `${c.name} fault`);
    t.equal(e.code, c.code, `${c.name} code`);
    t.equal(e.retryable, c.retryable, `${c.name} retryable`);
    t.same(e.details, c.details, `${c.name} details`);
  }
});

t.test('toWire', async (t) => {
  for (const c of CASES) {
    const e = c.make();
    const w = e.toWire();
    const expected: WireError = { fault: c.fault, code: c.code, message: e.message, retryable: c.retryable };
    if (c.details) expected.details = c.details;
    t.strictSame(w, expected, `${c.name} wire form`);
    t.equal('details' in w, c.details !== undefined, `${c.name}: details present only when set`);
  }
});

t.test('wire round trip for every fault, through JSON', async (t) => {
  for (const c of CASES) {
    const e = c.make();
    const back = fromWire(JSON.parse(JSON.stringify(e.toWire())) as WireError);
    const what = `${c.name}${c.retryable ? ' (retryable)' : ''}`;
    t.ok(back instanceof c.cls, `${what} comes back as ${c.name}`);
    t.equal(back.name, c.name, `${what} name`);
    t.equal(back.fault, c.fault, `${what} fault`);
    t.equal(back.code, c.code, `${what} code`);
    t.equal(back.message, e.message, `${what} message`);
    t.equal(back.retryable, c.retryable, `${what} retryable`);
    t.same(back.details, c.details, `${what} details`);
    t.strictSame(back.toWire(), e.toWire(), `${what} wire form is stable`);
  }
});

t.test('fromWire honours a retryable flag that differs from the class default', async (t) => {
  const e = fromWire({ fault: 'conflictingRequest', code: 409, message: 'try later', retryable: true, details: { a: 1 } });
  t.equal(e.retryable, true);
  t.equal(e.fault, 'conflictingRequest');
  t.equal(e.code, 409);
  t.same(e.details, { a: 1 });
  const u = fromWire({ fault: 'serviceUnavailable', code: 503, message: 'x', retryable: false });
  t.equal(u.retryable, false);
  t.equal(u.code, 503);
});

t.test('fromWire keeps the details of every fault, also of classes whose constructor takes none', async (t) => {
  for (const fault of ['itemNotFound', 'forbidden', 'overLimit', 'unauthorized', 'badRequest'] as FaultName[]) {
    const back = fromWire({ fault, code: 400, message: 'm', retryable: false, details: { type: 'NetworkNotFound' } });
    t.same(back.details, { type: 'NetworkNotFound' }, `${fault}: details kept`);
    t.same(back.toWire().details, { type: 'NetworkNotFound' }, `${fault}: and sent on again`);
  }
  t.equal(fromWire({ fault: 'itemNotFound', code: 404, message: 'm', retryable: false }).details, undefined, 'none when none were sent');
});

t.test('fromWire: an unknown fault becomes a computeFault', async (t) => {
  const e = fromWire({ fault: 'teapot' as FaultName, code: 418, message: 'short and stout', retryable: true });
  t.ok(e instanceof InternalError);
  t.equal(e.fault, 'computeFault');
  t.equal(e.code, 500);
  t.equal(e.message, 'short and stout');
  t.equal(e.retryable, false, 'unknown faults are not retried');
  const inherited = fromWire({ fault: 'toString' as FaultName, code: 1, message: 'proto', retryable: false });
  t.ok(inherited instanceof InternalError, 'an Object.prototype name is not a fault');
  const noMessage = fromWire({ fault: 'nope' } as unknown as WireError);
  t.equal(noMessage.message, 'unknown error');
});

t.test('toFaultBody', async (t) => {
  for (const c of CASES) {
    const e = c.make();
    t.strictSame(e.toFaultBody(), { [c.faultKey]: { code: c.code, message: e.message } }, `${c.name} → ${c.faultKey}`);
  }
});

t.test('asNovactError', async (t) => {
  const typed = new NotFoundError('x');
  t.equal(asNovactError(typed), typed, 'a NovactError passes through unchanged');
  const fromError = asNovactError(new TypeError('undefined is not a function'));
  t.ok(fromError instanceof InternalError);
  t.match(fromError, { message: 'undefined is not a function', code: 500, retryable: false, fault: 'computeFault' });
  t.equal(asNovactError('a string').message, 'a string');
  t.equal(asNovactError(42).message, '42');
  t.equal(asNovactError(undefined).message, 'undefined');
  t.ok(asNovactError({}) instanceof InternalError);
});

t.test('asNovactError: a dependency that is down is retryable Unavailable, a bug is a computeFault', async (t) => {
  const down = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const e of [down('ECONNREFUSED'), down('ECONNRESET'), down('57P03', 'the database system is not yet accepting connections'), down('57P01'), down('08006')]) {
    const n = asNovactError(e);
    t.ok(n instanceof UnavailableError && n.retryable, `${(e as { code: string }).code} → retryable 503`);
  }
  t.ok(asNovactError(new Error('Connection terminated unexpectedly')) instanceof UnavailableError, 'pg: connection terminated');
  for (const e of [new TypeError('x is undefined'), down('23505', 'duplicate key'), down('42P01', 'no such table'), 'plain string']) {
    const n = asNovactError(e);
    t.ok(n instanceof InternalError && !n.retryable, `${String((e as { code?: string }).code ?? e)} → computeFault, not retried`);
  }
});
