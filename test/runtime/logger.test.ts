/**
 * The pino-backed logger: levels, child fields, errors with their stack, the embedder's sink, and
 * the request scope's fields on every line written inside it (a line's own fields win).
 */
import t from 'tap';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { createLogger, errorFields, type LogLevel } from '../../runtime/log/logger.js';
import { makeScope, runInScope, withSubject } from '../../runtime/trace/scope.js';

const capture = (level: LogLevel = 'debug') => {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger(level, (l) => void lines.push(l)) };
};

t.test('levels: lines below the logger\'s level are dropped; each line names its level', async (t) => {
  const { lines, log } = capture('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  t.same(lines.map((l) => [l.level, l.msg]), [['warn', 'w'], ['error', 'e']]);
  t.equal(log.isEnabled?.('info'), false);
  t.equal(log.isEnabled?.('error'), true);
  t.match(lines[0], { time: /^\d{4}-\d\d-\d\dT/, pid: process.pid });
  const silent = capture('silent');
  silent.log.error('nothing');
  t.same(silent.lines, [], 'silent writes nothing');
});

t.test('child fields are on every line of the child, and a child of a child has both', async (t) => {
  const { lines, log } = capture();
  const role = log.child({ role: 'conductor' });
  role.child({ host: 'compute-1' }).info('spawned', { instance: 'i-1' });
  log.info('parent');
  t.match(lines[0], { role: 'conductor', host: 'compute-1', instance: 'i-1', msg: 'spawned' });
  t.notOk('role' in lines[1]!, 'the parent is unchanged');
});

t.test('an error keeps its type, message and stack', async (t) => {
  const { lines, log } = capture();
  class Boom extends Error {
    override name = 'Boom';
  }
  log.error('failed', errorFields(new Boom('it broke')));
  log.warn('odd', errorFields('a string'));
  const err = lines[0]!.err as { type: string; message: string; stack: string };
  t.equal(err.type, 'Boom');
  t.equal(err.message, 'it broke');
  t.match(err.stack, /it broke\n\s+at /);
  t.equal(lines[1]!.err, 'a string');
});

t.test('inside a request scope every line carries its ids; a line\'s own fields win', async (t) => {
  const { lines, log } = capture();
  const scope = makeScope({ requestId: 'req-1', globalRequestId: 'req-g', trace: ROOT_CONTEXT });
  await runInScope(scope, async () => {
    await Promise.resolve();
    log.info('after an await');
    withSubject({ instance: 'i-1', host: 'h-1' }, () => log.info('known subject'));
    log.info('own field', { host: 'mine' });
  });
  log.info('outside');
  withSubject({ instance: 'i-2', host: 'h-2' }, () => log.info('subject outside a request'));
  t.match(lines[0], { request_id: 'req-1', global_request_id: 'req-g' });
  t.match(lines[1], { request_id: 'req-1', instance_uuid: 'i-1', host: 'h-1' });
  t.equal(lines[2]!.host, 'mine');
  t.notOk('request_id' in lines[3]!, 'no request id outside the scope');
  t.notOk('instance_uuid' in lines[4]! || 'host' in lines[4]!, 'outside a request no scope is entered (Node 20: no promise hooks for the fleet\'s own traffic)');
  t.same(scope.fields, { request_id: 'req-1', global_request_id: 'req-g' }, 'the scope\'s own fields are not changed by lines');
});
