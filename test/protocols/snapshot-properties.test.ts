/** Nova's snapshot properties: inherited ones filtered, Nova's keys over them, the request's own metadata last. */
import t from 'tap';
import { snapshotProperties } from '../../protocols/snapshot-properties.js';

const origin = { instanceUuid: 'i-1', baseImageRef: 'img-1', imageType: 'snapshot' as const, userId: 'u-1' };

t.test('inherited properties lose to Nova\'s keys; non-inheritable and reserved names are dropped', async (t) => {
  const out = snapshotProperties({ image_type: 'backup', instance_uuid: 'old', img_signature: 'x', owner: 'p', os_distro: 'cirros', backup_type: 'daily' }, origin);
  t.same(out, { image_type: 'snapshot', instance_uuid: 'i-1', base_image_ref: 'img-1', user_id: 'u-1', os_distro: 'cirros' });
});

t.test('the request\'s metadata wins over Nova\'s keys, minus Glance-reserved names', async (t) => {
  const out = snapshotProperties({ os_distro: 'cirros' }, origin, { image_type: 'test', os_distro: 'mine', owner: 'p', os_glance_x: 'y' });
  t.same(out, { image_type: 'test', instance_uuid: 'i-1', base_image_ref: 'img-1', user_id: 'u-1', os_distro: 'mine' });
});

t.test('a backup\'s backup_type is its own, over the metadata\'s', async (t) => {
  const out = snapshotProperties({}, { ...origin, imageType: 'backup', backupType: 'daily' }, { backup_type: 'weekly' });
  t.equal(out.backup_type, 'daily');
  t.equal(out.image_type, 'backup');
});
