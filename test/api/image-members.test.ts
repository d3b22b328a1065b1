/**
 * Glance image members over HTTP: the owner shares a `shared` image, the member accepts, rejects or
 * leaves it pending, and the image shows in the member's listing by Glance's member_status rules.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';

const { http, admin } = await startApiCluster(t, { hosts: 1 });
const owner = await http.member(admin, 'mem-owner', 'olga', 'member');
const guest = await http.member(admin, 'mem-guest', 'gus', 'member');
const stranger = await http.member(admin, 'mem-other', 'sam', 'member');

const create = async (body: Record<string, unknown>) => {
  const r = await http.post('/image/v2/images', { token: owner.token, body });
  if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
  return r.body.id as string;
};
const listIds = async (token: string, qs = '') => ((await http.get(`/image/v2/images${qs}`, { token })).body.images as { id: string }[]).map((i) => i.id);
const members = (id: string) => `/image/v2/images/${id}/members`;

t.test('share, accept, reject, delete, with Glance’s visibility in the listing', async (t) => {
  const id = await create({ name: 'shared-one' });
  t.equal((await http.get(`/image/v2/images/${id}`, { token: guest.token })).status, 404, 'not yet a member: not visible');

  const add = await http.post(members(id), { token: owner.token, body: { member: guest.projectId } });
  t.equal(add.status, 200);
  t.same(Object.keys(add.body).sort(), ['created_at', 'image_id', 'member_id', 'schema', 'status', 'updated_at']);
  t.match(add.body, { image_id: id, member_id: guest.projectId, status: 'pending', schema: '/v2/schemas/member' });
  t.equal((await http.post(members(id), { token: owner.token, body: { member: guest.projectId } })).status, 409, 'already a member');

  t.equal((await http.get(`/image/v2/images/${id}`, { token: guest.token })).status, 200, 'a pending member sees it by id');
  t.notOk((await listIds(guest.token)).includes(id), 'pending: not in the default list');
  t.ok((await listIds(guest.token, '?member_status=pending')).includes(id));
  t.ok((await listIds(guest.token, '?visibility=shared&member_status=all')).includes(id));
  t.notOk((await listIds(guest.token, '?member_status=accepted')).includes(id));

  t.equal((await http.put(`${members(id)}/${guest.projectId}`, { token: owner.token, body: { status: 'accepted' } })).status, 403, 'the owner cannot answer');
  t.equal((await http.put(`${members(id)}/${guest.projectId}`, { token: guest.token, body: { status: 'maybe' } })).status, 400);
  const acc = await http.put(`${members(id)}/${guest.projectId}`, { token: guest.token, body: { status: 'accepted' } });
  t.equal(acc.status, 200);
  t.equal(acc.body.status, 'accepted');
  t.ok((await listIds(guest.token)).includes(id), 'accepted: in the default list');
  t.ok((await listIds(guest.token, '?visibility=shared')).includes(id));

  // Lists: the owner sees every member, the member only itself; a stranger nothing.
  await http.post(members(id), { token: owner.token, body: { member: stranger.projectId } });
  const all = await http.get(members(id), { token: owner.token });
  t.equal(all.body.schema, '/v2/schemas/members');
  t.same((all.body.members as { member_id: string }[]).map((m) => m.member_id).sort(), [guest.projectId, stranger.projectId].sort());
  const mine = await http.get(members(id), { token: guest.token });
  t.same((mine.body.members as { member_id: string }[]).map((m) => m.member_id), [guest.projectId]);
  t.equal((await http.get(`${members(id)}/${guest.projectId}`, { token: guest.token })).body.status, 'accepted');
  t.equal((await http.get(`${members(id)}/${stranger.projectId}`, { token: guest.token })).status, 404, 'another member’s entry');
  t.equal((await http.get(`${members(id)}/nobody`, { token: owner.token })).status, 404);

  const rej = await http.put(`${members(id)}/${guest.projectId}`, { token: guest.token, body: { status: 'rejected' } });
  t.equal(rej.body.status, 'rejected');
  t.notOk((await listIds(guest.token)).includes(id), 'rejected: hidden from the default list');
  t.ok((await listIds(guest.token, '?member_status=rejected')).includes(id));
  t.equal((await http.get(`/image/v2/images/${id}`, { token: guest.token })).status, 200, 'still visible by id');

  t.equal((await http.delete(`${members(id)}/${guest.projectId}`, { token: guest.token })).status, 403, 'a member cannot remove itself');
  t.equal((await http.delete(`${members(id)}/${guest.projectId}`, { token: owner.token })).status, 204);
  t.equal((await http.delete(`${members(id)}/${guest.projectId}`, { token: owner.token })).status, 404, 'already removed');
  t.equal((await http.get(`/image/v2/images/${id}`, { token: guest.token })).status, 404, 'no longer a member: not visible');
});

t.test('refusals: non-shared images, non-owners, unknown images, bad bodies', async (t) => {
  const priv = await create({ name: 'private-one', visibility: 'private' });
  t.equal((await http.post(members(priv), { token: owner.token, body: { member: guest.projectId } })).status, 403, 'only shared images have members');
  t.equal((await http.get(members(priv), { token: owner.token })).status, 403);
  const id = await create({ name: 'shared-two' });
  t.equal((await http.post(members(id), { token: stranger.token, body: { member: stranger.projectId } })).status, 404, 'a stranger cannot see it');
  await http.post(members(id), { token: owner.token, body: { member: guest.projectId } });
  t.equal((await http.post(members(id), { token: guest.token, body: { member: stranger.projectId } })).status, 403, 'a member cannot share on');
  t.equal((await http.post(members(id), { token: owner.token, body: { nope: 1 } })).status, 400);
  t.equal((await http.get(members('00000000-0000-4000-8000-000000000000'), { token: owner.token })).status, 404);
  t.equal((await http.put(`${members(id)}/${guest.projectId}`, { token: stranger.token, body: { status: 'accepted' } })).status, 404);
});

t.test('member schemas', async (t) => {
  const one = await http.get('/image/v2/schemas/member', { token: owner.token });
  t.equal(one.status, 200);
  t.equal(one.body.name, 'member');
  t.same(one.body.properties.status.enum, ['pending', 'accepted', 'rejected']);
  t.equal((await http.get('/image/v2/schemas/members', { token: owner.token })).body.name, 'members');
});
