/** Images the caller may see (its own, shared and public ones: Glance scopes the list). */
import type { Cloud } from './store';
import { Badge, when } from './widgets';

const size = (b: number | null) => (b === null ? '—' : b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);

export function Images({ cloud }: { cloud: Cloud }) {
  return (
    <section>
      <h2>Images</h2>
      <table>
        <thead><tr><th>Name</th><th>Status</th><th>Visibility</th><th>Format</th><th>Size</th><th>Created</th></tr></thead>
        <tbody>
          {cloud.images.map((i) => (
            <tr key={i.id} data-image-id={i.id}>
              <td title={i.id}>{i.name ?? i.id}</td>
              <td><Badge value={i.status} /></td>
              <td>{i.visibility}</td>
              <td>{i.disk_format ?? '—'}</td>
              <td>{size(i.size)}</td>
              <td>{when(i.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
