/** Tempest's configuration for a cluster: feature flags follow the probes, accounts are YAML Tempest reads. */
import t from 'tap';
import { renderAccounts, renderTempestConf } from '../../scripts/conformance/tempest-conf.js';

const setup = {
  authUrl: 'http://127.0.0.1:1/v3', imageRef: 'img-1', imageRefAlt: 'img-2', flavorRef: '1', flavorRefAlt: '2',
  minMicroversion: '2.1', maxMicroversion: '2.90', computeNodes: 3, flags: { pause: true, resize: false },
  lockPath: '/tmp/l', logFile: '/tmp/t.log', accountsFile: '/tmp/accounts.yaml',
};

/** `[section] key` of an INI text. */
function value(ini: string, section: string, key: string): string | undefined {
  const body = ini.split(`[${section}]\n`)[1]?.split('\n[')[0] ?? '';
  return new RegExp(`^${key} = (.*)$`, 'm').exec(body)?.[1];
}

t.test('flags as probed, what novact lacks off, pre-provisioned accounts', async (t) => {
  const conf = renderTempestConf(setup);
  t.equal(value(conf, 'compute-feature-enabled', 'pause'), 'True');
  t.equal(value(conf, 'compute-feature-enabled', 'resize'), 'False');
  t.equal(value(conf, 'compute-feature-enabled', 'personality'), 'False', 'no guest agent');
  t.equal(value(conf, 'compute', 'max_microversion'), '2.90');
  t.equal(value(conf, 'auth', 'use_dynamic_credentials'), 'False');
  t.equal(value(conf, 'service_available', 'neutron'), 'True', 'Neutron on: each account has a network');
  const yaml = renderAccounts([{ username: 'u1', password: "it's", project: 'p1' }], { username: 'admin', password: 'x', project: 'admin' });
  t.match(yaml, /- username: 'u1'\n  project_name: 'p1'\n  password: 'it''s'/, 'single quotes doubled, as YAML wants');
  t.match(yaml, /username: 'admin'[\s\S]*types:\n    - admin/);
  t.notMatch(yaml, /resources:/, 'no network named, no resources');
  const withNet = renderAccounts([{ username: 'u1', password: 'p', project: 'p1', network: 'tempest-net' }], { username: 'admin', password: 'x', project: 'admin', network: 'admin-net' });
  t.match(withNet, /- username: 'u1'\n  project_name: 'p1'\n  password: 'p'\n  domain_name: 'Default'\n  resources:\n    network: 'tempest-net'/, "an account's network, as Tempest's accounts file has it");
  t.match(withNet, /network: 'admin-net'\n  types:\n    - admin/, 'before the admin type');
});
