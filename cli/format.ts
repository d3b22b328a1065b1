/** Output: plain-text tables in the style of the `openstack` client, or JSON with `--json`. */
import type { ComputeNodeView, HostView, InstanceActionView, ServerView } from '../protocols/messages.js';
import type { Flavor, ImageMeta } from '../protocols/resources.js';

export type Cell = string | number | boolean | null | undefined;

export interface Output {
  write(text: string): void;
  /** The terminal behind this output, when it is one (progress bars redraw there). */
  tty?: NodeJS.WriteStream;
}

export const stdout: Output = { write: (text) => void process.stdout.write(text) };

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A URL for display: any password replaced by `***`. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/** A boxed table; every line ends in a newline. An empty table still shows its header. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [rule, line(headers), rule, ...text.map(line), ...(text.length ? [rule] : [])].join('\n') + '\n';
}

/** A two-column Field/Value table, for one object. */
export function fields(pairs: [string, Cell][]): string {
  return table(['Field', 'Value'], pairs);
}

const POWER_STATE: Record<number, string> = { 0: 'NOSTATE', 1: 'Running', 3: 'Paused', 4: 'Shutdown', 6: 'Crashed', 7: 'Suspended' };
export const powerState = (p: number): string => POWER_STATE[p] ?? String(p);

function kv(o: Record<string, string>): string {
  return Object.entries(o).map(([k, v]) => `${k}='${v}'`).join(', ');
}

export function serverList(servers: ServerView[]): string {
  return table(
    ['ID', 'Name', 'Status', 'Task State', 'Power State', 'Host', 'Flavor'],
    servers.map((s) => [s.id, s.name, s.status, s.taskState, powerState(s.powerState), s.host, s.flavor.name]),
  );
}

export function serverShow(s: ServerView): string {
  return fields([
    ['id', s.id],
    ['name', s.name],
    ['status', s.status],
    ['vm_state', s.vmState],
    ['task_state', s.taskState],
    ['power_state', powerState(s.powerState)],
    ['host', s.host],
    ['flavor', `${s.flavor.name} (${s.flavor.id}): ${s.flavor.vcpus} vCPU, ${s.flavor.ram} MB RAM, ${s.flavor.disk} GB disk`],
    ['image', s.imageId],
    ['project_id', s.projectId],
    ['user_id', s.userId],
    ['availability_zone', s.availabilityZone],
    ['metadata', kv(s.metadata)],
    ['fault', s.fault ? `${s.fault.message} (${s.fault.code})` : null],
    ['created', s.createdAt],
    ['updated', s.updatedAt],
    ['launched_at', s.launchedAt],
  ]);
}

export function actionList(actions: InstanceActionView[]): string {
  return table(
    ['Action', 'Request ID', 'Start Time', 'Finish Time', 'Result', 'Message'],
    actions.map((a) => [a.action, a.requestId, a.startTime, a.finishTime, a.result, a.message]),
  );
}

export function hostList(hosts: ComputeNodeView[]): string {
  return table(
    ['Host', 'State', 'Status', 'Hypervisor', 'vCPUs (used/total)', 'RAM MB (used/total)', 'Disk GB (used/total)', 'VMs', 'Last Seen'],
    hosts.map((h) => [
      h.host, h.state, h.status, h.hypervisorType,
      `${h.vcpusUsed}/${h.vcpus}`, `${h.memoryMbUsed}/${h.memoryMb}`, `${h.localGbUsed}/${h.localGb}`,
      h.runningVms, h.lastSeenAt,
    ]),
  );
}

export function hostShow(h: HostView): string {
  const summary = fields([
    ['host', h.host],
    ['enabled', h.enabled],
    ['hypervisor', `${h.info.hypervisorType} ${h.info.hypervisorVersion}`],
    ['cpu_arch', h.info.cpuArch],
    ['vcpus (used/total)', `${h.usage.vcpusUsed}/${h.info.vcpus}`],
    ['memory_mb (used/total)', `${h.usage.memoryMbUsed}/${h.info.memoryMb}`],
    ['disk_gb (used/total)', `${h.usage.diskGbUsed}/${h.info.diskGb}`],
    ['running_vms', h.usage.runningVms],
    ['report_seq', h.reportSeq],
  ]);
  if (h.guests.length === 0) return summary;
  const guests = table(
    ['Guest', 'Name', 'Power State', 'vCPUs', 'RAM MB', 'Disk GB'],
    h.guests.map((g) => [g.uuid, g.name, powerState(g.powerState), g.vcpus, g.memoryMb, g.diskGb]),
  );
  return `${summary}\n${guests}`;
}

export function flavorList(flavors: Flavor[]): string {
  return table(
    ['ID', 'Name', 'vCPUs', 'RAM MB', 'Disk GB', 'Ephemeral GB', 'Public'],
    flavors.map((f) => [f.id, f.name, f.vcpus, f.memoryMb, f.diskGb, f.ephemeralGb, f.isPublic]),
  );
}

export function imageList(images: ImageMeta[]): string {
  return table(
    ['ID', 'Name', 'Status', 'Disk Format', 'Container Format', 'Size', 'Visibility'],
    images.map((i) => [i.id, i.name, i.status, i.diskFormat, i.containerFormat, i.sizeBytes, i.visibility]),
  );
}
