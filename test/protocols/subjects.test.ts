import t, { type Test } from 'tap';
import { BadRequestError } from '../../protocols/errors.js';
import { DEFAULT_ROOT, Subjects, isValidToken, token } from '../../protocols/subjects.js';

function throwsBad(t: Test, fn: () => unknown, what: string): void {
  try {
    fn();
    t.fail(`${what}: expected BadRequestError`);
  } catch (e) {
    t.ok(e instanceof BadRequestError, `${what}: BadRequestError`);
  }
}

const BAD_TOKENS = ['', '.', 'a.b', '*', 'a*', '>', 'a>', ' ', 'a b', '\t', 'a\tb', '\n', 'a\r', 'x'.repeat(256)];
const GOOD_TOKENS = ['a', 'A-Z_0-9', 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11', 'host-01', 'x'.repeat(255), 'ünï', 'a:b', 'a/b'];

t.test('isValidToken / token', async (t) => {
  for (const bad of BAD_TOKENS) {
    t.notOk(isValidToken(bad), `${JSON.stringify(bad)} is not a token`);
    throwsBad(t, () => token(bad), `token(${JSON.stringify(bad)})`);
  }
  for (const good of GOOD_TOKENS) {
    t.ok(isValidToken(good), `${JSON.stringify(good)} is a token`);
    t.equal(token(good), good);
  }
  t.throws(() => token('a.b', 'host name'), { message: 'invalid host name for a subject: "a.b"' }, 'the message names what was wrong');
  throwsBad(t, () => token(42 as unknown as string), 'a non-string');
});

t.test('root', async (t) => {
  t.equal(DEFAULT_ROOT, 'novact');
  t.equal(new Subjects().root, 'novact');
  t.equal(new Subjects('acme.novact').root, 'acme.novact', 'a multi-level root');
  for (const bad of ['', '.', 'a.', '.a', 'a..b', 'a.*', 'a.>', 'a b', '*']) {
    throwsBad(t, () => new Subjects(bad), `root ${JSON.stringify(bad)}`);
  }
});

t.test('builders', async (t) => {
  const s = new Subjects();
  const id = 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11';
  t.equal(s.instance(id, 'get'), `novact.instance.${id}.get`);
  t.equal(s.host('h1', 'spawn'), 'novact.host.h1.spawn');
  t.equal(s.image(id, 'get'), `novact.image.${id}.get`);
  t.equal(s.imageRole('list'), 'novact.image.list');
  t.equal(s.flavor('list'), 'novact.flavor.list');
  t.equal(s.scheduler('select'), 'novact.scheduler.select');
  t.equal(s.conductor('create'), 'novact.conductor.create');
  t.equal(s.report('h1', 'capacity'), 'novact.report.host.h1.capacity');
  t.equal(s.report('h1', 'heartbeat'), 'novact.report.host.h1.heartbeat');
  t.equal(s.event('instance', id, 'create', 'end'), `novact.evt.instance.${id}.create.end`);
  t.equal(s.event('host', 'h1', 'update'), 'novact.evt.host.h1.update');

  const r = new Subjects('acme.nv');
  t.equal(r.instance(id, 'delete'), `acme.nv.instance.${id}.delete`);
  t.equal(r.report('h2', 'heartbeat'), 'acme.nv.report.host.h2.heartbeat');

  // Every caller-supplied token is checked: nothing can add a level or a wildcard.
  for (const bad of ['', 'a.b', '*', '>', 'a b']) {
    const q = JSON.stringify(bad);
    throwsBad(t, () => s.instance(bad, 'get'), `instance id ${q}`);
    throwsBad(t, () => s.instance(id, bad), `instance verb ${q}`);
    throwsBad(t, () => s.host(bad, 'get'), `host ${q}`);
    throwsBad(t, () => s.host('h1', bad), `host verb ${q}`);
    throwsBad(t, () => s.image(bad, 'get'), `image id ${q}`);
    throwsBad(t, () => s.image(id, bad), `image verb ${q}`);
    throwsBad(t, () => s.imageRole(bad), `image role verb ${q}`);
    throwsBad(t, () => s.flavor(bad), `flavor verb ${q}`);
    throwsBad(t, () => s.scheduler(bad), `scheduler verb ${q}`);
    throwsBad(t, () => s.conductor(bad), `conductor verb ${q}`);
    throwsBad(t, () => s.report(bad, 'capacity'), `report host ${q}`);
    throwsBad(t, () => s.event(bad, id, 'x'), `event kind ${q}`);
    throwsBad(t, () => s.event('instance', bad, 'x'), `event id ${q}`);
    throwsBad(t, () => s.event('instance', id, 'ok', bad), `event name ${q}`);
    throwsBad(t, () => s.allHostVerbs(bad), `allHostVerbs ${q}`);
    throwsBad(t, () => s.entityEvents(bad, id), `entityEvents kind ${q}`);
    throwsBad(t, () => s.entityEvents('instance', bad), `entityEvents id ${q}`);
  }
  throwsBad(t, () => s.event('instance', id), 'an event subject without an event name');
});

t.test('wildcard patterns', async (t) => {
  const s = new Subjects('acme.nv');
  t.equal(s.allInstances, 'acme.nv.instance.*.*');
  t.equal(s.allHostVerbs('h1'), 'acme.nv.host.h1.*');
  t.equal(s.allImages, 'acme.nv.image.*.*');
  t.equal(s.allReports('capacity'), 'acme.nv.report.host.*.capacity');
  t.equal(s.allReports('heartbeat'), 'acme.nv.report.host.*.heartbeat');
  t.equal(s.allEvents, 'acme.nv.evt.>');
  t.equal(s.entityEvents('instance', 'u1'), 'acme.nv.evt.instance.u1.>');
});

t.test('parseEntity round trips the builders', async (t) => {
  for (const root of ['novact', 'acme.novact']) {
    const s = new Subjects(root);
    for (const id of ['u1', 'b3e6a1a0-1c4f-4c1e-9a57-0e5f0f7d6a11', 'host_07']) {
      for (const verb of ['get', 'delete', 'reboot', 'power-off']) {
        t.same(s.parseEntity(s.instance(id, verb), 'instance'), { id, verb }, `${root} instance ${id} ${verb}`);
        t.same(s.parseEntity(s.host(id, verb), 'host'), { id, verb }, `${root} host ${id} ${verb}`);
        t.same(s.parseEntity(s.image(id, verb), 'image'), { id, verb }, `${root} image ${id} ${verb}`);
      }
    }
  }
});

t.test('parseEntity refuses what does not match', async (t) => {
  const s = new Subjects();
  const cases: [string, 'instance' | 'host' | 'image', string][] = [
    ['novact.host.h1.get', 'instance', 'another kind'],
    ['novact.instance.u1.get', 'host', 'another kind'],
    ['other.instance.u1.get', 'instance', 'another root'],
    ['novactx.instance.u1.get', 'instance', 'a root that only shares a prefix'],
    ['acme.novact.instance.u1.get', 'instance', 'a deeper root'],
    ['novact.instance.u1', 'instance', 'no verb'],
    ['novact.instance.u1.get.extra', 'instance', 'an extra level'],
    ['novact.instance..get', 'instance', 'an empty id'],
    ['novact.instance.u1.', 'instance', 'an empty verb'],
    ['novact.instance.*.get', 'instance', 'a wildcard id'],
    ['novact.instance.u1.>', 'instance', 'a wildcard verb'],
    ['novact.image.list', 'image', 'the image role subject'],
    ['novact.instance.', 'instance', 'the bare prefix'],
    ['', 'instance', 'empty'],
  ];
  for (const [subject, kind, why] of cases) t.equal(s.parseEntity(subject, kind), undefined, `${why}: ${JSON.stringify(subject)}`);
});

t.test('parseReportHost', async (t) => {
  for (const root of ['novact', 'acme.novact']) {
    const s = new Subjects(root);
    t.equal(s.parseReportHost(s.report('h1', 'capacity')), 'h1', `${root} capacity`);
    t.equal(s.parseReportHost(s.report('node-7', 'heartbeat')), 'node-7', `${root} heartbeat`);
    t.equal(s.parseReportHost(`${root}.report.host.h1`), undefined, `${root}: no kind`);
    t.equal(s.parseReportHost(`${root}.report.host.h1.capacity.x`), undefined, `${root}: extra level`);
    t.equal(s.parseReportHost(`${root}.host.h1.get`), undefined, `${root}: not a report`);
    t.equal(s.parseReportHost(`${root}.report.other.h1.capacity`), undefined, `${root}: not a host report`);
  }
  const s = new Subjects();
  // Same length as 'novact': only a prefix check tells these apart.
  t.equal(s.parseReportHost('abcdef.report.host.h1.capacity'), undefined, 'another root of the same length');
  t.equal(s.parseReportHost('novact.report.host..capacity'), undefined, 'an empty host name');
});
