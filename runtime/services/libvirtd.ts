/**
 * A session-mode libvirtd of novact's own (one per libvirt host): unprivileged, its HOME and XDG
 * directories inside `dir`, reached on its own socket, so tests and `novact up --driver libvirt`
 * need no system libvirt and never share one.
 * SIGNATURES ONLY: the body lands with the libvirtd work.
 */
export interface LibvirtdOptions {
  /** Where the daemon's directories, socket and logs live (default: a new temp dir, removed on stop). */
  dir?: string;
  /** How long to wait for the socket (default 30 s). */
  readyTimeoutMs?: number;
}

export interface LibvirtdHandle {
  /** `qemu+unix:///session?socket=<dir>/…/libvirt-sock`. */
  uri: string;
  dir: string;
  pid: number;
  /** The daemon's recent output (errors). */
  output(): string;
  /** Stops the daemon (SIGTERM, then SIGKILL); removes `dir` when it was a temp dir. */
  stop(): Promise<void>;
  /** SIGKILL now (chaos tests); the guests' qemu processes are left as a crash leaves them. */
  kill(): void;
}

export async function startLibvirtd(_opts: LibvirtdOptions = {}): Promise<LibvirtdHandle> {
  throw new Error('libvirtd: not built yet');
}
