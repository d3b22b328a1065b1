import t from 'tap';
import { BadRequestError, ConflictError, ForbiddenError, NovactError, OverLimitError } from '../../protocols/errors.js';
import { applyImagePatch, parsePatchOps, type MutableImage } from '../../protocols/image-patch.js';

const base: MutableImage = {
  name: 'img', visibility: 'shared', minDisk: 0, minRam: 0, protected: false, osHidden: false, tags: [],
  diskFormat: 'raw', containerFormat: 'bare', owner: 'p1', properties: { colour: 'blue' },
};
const apply = (ops: unknown, status: 'queued' | 'active' = 'queued') => applyImagePatch(base, parsePatchOps(ops), status);
const errorOf = (f: () => unknown): NovactError | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err as NovactError;
  }
};

t.test('core attributes and properties', async (t) => {
  const r = apply([
    { op: 'replace', path: '/name', value: 'new' },
    { op: 'add', path: '/min_ram', value: 512 },
    { op: 'replace', path: '/tags', value: ['a', 'b', 'a'] },
    { op: 'add', path: '/os~1distro', value: 'debian' },
    { op: 'replace', path: '/colour', value: 'red' },
    { op: 'add', path: '/protected', value: true },
  ]);
  t.equal(r.name, 'new');
  t.equal(r.minRam, 512);
  t.same(r.tags, ['a', 'b']);
  t.same(r.properties, { colour: 'red', 'os/distro': 'debian' }, '~1 unescapes to /');
  t.equal(r.protected, true);
  t.same(base.properties, { colour: 'blue' }, 'the input is not changed');
  t.same(apply([{ op: 'remove', path: '/colour' }]).properties, {});
  t.equal(apply([{ op: 'replace', path: '/name', value: null }]).name, '', 'a null name');
});

t.test('Glance’s refusals, typed', async (t) => {
  t.type(errorOf(() => apply([{ op: 'replace', path: '/status', value: 'active' }])), ForbiddenError, 'read-only');
  t.type(errorOf(() => apply([{ op: 'add', path: '/os_glance_x', value: '1' }])), ForbiddenError, 'reserved');
  t.type(errorOf(() => apply([{ op: 'remove', path: '/name' }])), ForbiddenError, 'core attributes stay');
  t.type(errorOf(() => apply([{ op: 'replace', path: '/disk_format', value: 'qcow2' }], 'active')), ForbiddenError, 'formats only while queued');
  t.type(errorOf(() => apply([{ op: 'replace', path: '/missing', value: 'x' }])), ConflictError);
  t.type(errorOf(() => apply([{ op: 'remove', path: '/missing' }])), ConflictError);
  t.type(errorOf(() => apply([{ op: 'add', path: '/x', value: 5 }])), BadRequestError, 'properties are strings');
  t.type(errorOf(() => apply([{ op: 'replace', path: '/visibility', value: 'everyone' }])), BadRequestError);
  t.type(errorOf(() => apply([{ op: 'replace', path: '/min_disk', value: -1 }])), BadRequestError);
  t.type(errorOf(() => apply([{ op: 'replace', path: '/disk_format', value: 'floppy' }])), BadRequestError, 'an unknown disk format');
  // Glance v2 lets ari/aki/ami disks sit in any container (Tempest's listing tests make such pairs).
  t.equal(apply([{ op: 'replace', path: '/disk_format', value: 'ami' }]).diskFormat, 'ami');
  t.type(errorOf(() => apply([{ op: 'replace', path: '/owner', value: 'x'.repeat(65) }])), BadRequestError);
  const many = Array.from({ length: 129 }, (_, i) => ({ op: 'add', path: `/p${i}`, value: 'v' }));
  t.type(errorOf(() => apply(many)), OverLimitError, 'at most 128 properties');
  t.type(errorOf(() => apply([{ op: 'replace', path: '/tags', value: Array.from({ length: 129 }, (_, i) => `t${i}`) }])), OverLimitError);
});

t.test("Glance's v2.0 dialect names the operation by its key (Tempest sends it)", async (t) => {
  const r = applyImagePatch(base, parsePatchOps([{ replace: '/name', value: 'v20' }, { add: '/os_distro', value: 'debian' }, { remove: '/colour' }], 'v2.0'), 'queued');
  t.equal(r.name, 'v20');
  t.same(r.properties, { os_distro: 'debian' });
  t.type(errorOf(() => parsePatchOps([{ replace: '/name', add: '/x', value: 'v' }], 'v2.0')), BadRequestError, 'one operation per object');
  t.type(errorOf(() => parsePatchOps([{ op: 'replace', path: '/name', value: 'v' }], 'v2.0')), BadRequestError, 'not the v2.1 form');
  t.type(errorOf(() => parsePatchOps([{ replace: '/name', value: 'v' }])), BadRequestError, 'nor v2.0 under v2.1');
});

t.test('malformed patches are 400', async (t) => {
  for (const bad of [{}, 'x', [null], [{ op: 'test', path: '/name', value: 'x' }], [{ op: 'add', path: 'name', value: 'x' }],
    [{ op: 'add', path: '/a/b', value: 'x' }], [{ op: 'add', path: '/' }], [{ op: 'replace', path: '/name' }], [{ op: 'add', path: '/x', value: 'y', from: '/z' }]]) {
    t.type(errorOf(() => parsePatchOps(bad)), BadRequestError, JSON.stringify(bad));
  }
});
