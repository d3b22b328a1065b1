/** Small pieces the pages share: status badges, a usage bar, a fault line, a labelled value, a button's call. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A call a button or form makes: busy while it runs, its failure's message kept for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async (call: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await call();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

const TONES: Record<string, string> = {
  ACTIVE: 'ok', enabled: 'ok', up: 'ok', active: 'ok',
  BUILD: 'busy', REBOOT: 'busy', HARD_REBOOT: 'busy', MIGRATING: 'busy', RESIZE: 'busy', REBUILD: 'busy', queued: 'busy', saving: 'busy', importing: 'busy',
  SHUTOFF: 'off', PAUSED: 'off', SUSPENDED: 'off', SHELVED: 'off', SHELVED_OFFLOADED: 'off', disabled: 'off', deactivated: 'off',
  ERROR: 'bad', down: 'bad', killed: 'bad', UNKNOWN: 'bad',
};

export function Badge({ value }: { value: string }) {
  return <span class={`badge ${TONES[value] ?? 'plain'}`} data-badge={value}>{value}</span>;
}

export function Bar({ used, total, label }: { used: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  return (
    <div class="bar" title={`${label}: ${used} of ${total}`}>
      <div class="bar-fill" style={{ width: `${pct}%` }} />
      <span>{label} {used}/{total}</span>
    </div>
  );
}

export function Failure({ message }: { message: string | undefined }) {
  return message ? <p class="failure" role="alert">{message}</p> : null;
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return <div class="field"><dt>{label}</dt><dd>{children}</dd></div>;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
