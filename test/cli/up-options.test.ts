/** `novact up`'s operations options: `--metrics-port [HOST:]PORT` and the scrape token from NOVACT_METRICS_TOKEN. */
import t from 'tap';
import { metricsOption } from '../../cli/up.js';
import { UsageError } from '../../cli/usage.js';

const of = (port: string | undefined, env: Record<string, string> = {}) => metricsOption({ values: port === undefined ? {} : { 'metrics-port': port }, env });

t.test('--metrics-port: a port, or host and port (IPv6 in brackets)', async (t) => {
  t.same(of(undefined), {}, 'absent: no operations port');
  t.same(of('9464'), { port: 9464 });
  t.same(of('0'), { port: 0 }, '0: any free port');
  t.same(of('0.0.0.0:9464'), { port: 9464, host: '0.0.0.0' });
  t.same(of('[::1]:9464'), { port: 9464, host: '::1' });
  for (const bad of ['', 'x', '70000', 'host:', ':80', '1.2.3.4:99999', '9464 ']) t.throws(() => of(bad), UsageError, `refuses '${bad}'`);
});

t.test('NOVACT_METRICS_TOKEN is the scrape token; empty is none', async (t) => {
  t.same(of('9464', { NOVACT_METRICS_TOKEN: 's3cret' }), { token: 's3cret', port: 9464 });
  t.same(of(undefined, { NOVACT_METRICS_TOKEN: '' }), {});
});
