import t from 'tap';
import { ApiError, faultReply } from '../../actors/api/faults.js';
import { ConflictError, NoValidHostError, NotFoundError, OverLimitError, TimeoutError } from '../../protocols/errors.js';

t.test('typed errors become Nova fault bodies with their codes', async (t) => {
  t.same(faultReply(new NotFoundError('gone'), 'nova').body, { itemNotFound: { code: 404, message: 'gone' } });
  t.same(faultReply(new ConflictError('busy'), 'nova').body, { conflictingRequest: { code: 409, message: 'busy' } });
  t.same(faultReply(new OverLimitError('full'), 'nova').body, { overLimit: { code: 413, message: 'full', retryAfter: '0' } });
  t.same(faultReply(new ApiError(405, 'no'), 'nova').body, { badMethod: { code: 405, message: 'no' } });
  t.same(faultReply(new ApiError(415, 'no'), 'nova').body, { badMediaType: { code: 415, message: 'no' } });
  t.same(faultReply(new ApiError(501, 'no'), 'nova').body, { notImplemented: { code: 501, message: 'no' } });
  t.same(faultReply(new ApiError(406, 'no'), 'nova').body, { computeFault: { code: 406, message: 'no' } }, 'Nova has no name for 406');
  t.equal(faultReply(new NoValidHostError('none'), 'nova').status, 500);
  t.equal(faultReply(new TimeoutError('slow'), 'nova').status, 504);
  const unexpected = faultReply(new Error('secret internals'), 'nova');
  t.equal(unexpected.status, 500);
  t.ok(unexpected.unexpected, 'flagged for the log');
  t.notMatch(JSON.stringify(unexpected.body), /secret internals/, 'internals are not shown to clients');
});

t.test('Keystone style for identity', async (t) => {
  t.same(faultReply(new ApiError(401, 'who?'), 'keystone').body, { error: { code: 401, title: 'Unauthorized', message: 'who?' } });
});

t.test('Fastify’s own failures map to 4xx', async (t) => {
  const f = (e: Record<string, unknown>) => faultReply(Object.assign(new Error(String(e.message ?? 'x')), e), 'nova').status;
  t.equal(f({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413);
  t.equal(f({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), 415);
  t.equal(f({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 }), 400);
  t.equal(f({ code: 'FST_ERR_BAD_URL', statusCode: 400 }), 400);
  t.equal(f({ validation: [{ instancePath: '/server/name', keyword: 'type', message: 'must be string' }], validationContext: 'body' }), 400);
  t.equal(f({ statusCode: 400 }), 400);
  const v = faultReply(Object.assign(new Error('x'), { validation: [{ instancePath: '/server', keyword: 'required', params: { missingProperty: 'name' } }] }), 'nova');
  t.equal((v.body.badRequest as { message: string }).message, "Invalid input for field/attribute server. 'name' is a required property");
});
