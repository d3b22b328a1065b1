/**
 * The metadata definitions novact ships, loaded once into an empty catalog (Glance loads its own set
 * with `glance-manage db_load_metadefs`). Written for novact: the image and flavor properties its
 * scheduler and hosts read. Bump SEED_NAME to load a changed set on clusters that loaded the old one.
 */
export const SEED_NAME = 'novact-metadefs-1';

const image = (prefix: string) => ({ name: 'OS::Glance::Image', prefix });
const flavor = (prefix: string) => ({ name: 'OS::Nova::Flavor', prefix });
const str = (title: string, description: string, values?: string[]) => ({ title, description, type: 'string', ...(values ? { enum: values } : {}) });
/** Shipped namespaces are public, protected and the admins'. */
const shipped = (namespace: string, display_name: string, description: string) =>
  ({ namespace, display_name, description, visibility: 'public', protected: true, owner: 'admin' });
const int = (title: string, description: string, minimum = 1) => ({ title, description, type: 'integer', minimum });

export const SEED_NAMESPACES: Record<string, unknown>[] = [
  {
    ...shipped('OS::Compute::CPUPinning', 'CPU pinning', 'Whether guest vCPUs get host CPUs of their own, and how sibling hyperthreads are shared.'),
    resource_type_associations: [image('hw_'), flavor('hw:')],
    properties: {
      cpu_policy: str('CPU policy', 'dedicated: each vCPU is pinned to a host CPU no other guest uses; shared: vCPUs float.', ['shared', 'dedicated']),
      cpu_thread_policy: str('CPU thread policy', 'With dedicated CPUs: prefer, isolate or require sibling hyperthreads.', ['prefer', 'isolate', 'require']),
    },
  },
  {
    ...shipped('OS::Compute::CPUTopology', 'Virtual CPU topology', 'The sockets, cores and threads the guest sees its vCPUs as (some guest licences count sockets).'),
    resource_type_associations: [image('hw_'), flavor('hw:')],
    properties: {
      cpu_sockets: int('Sockets', 'Preferred number of sockets.'),
      cpu_cores: int('Cores', 'Preferred number of cores per socket.'),
      cpu_threads: int('Threads', 'Preferred number of threads per core.'),
      cpu_max_sockets: int('Maximum sockets', 'Upper bound on sockets.'),
    },
  },
  {
    ...shipped('OS::Compute::GuestHardware', 'Guest hardware', 'Devices and firmware the guest is given.'),
    resource_type_associations: [image('hw_')],
    properties: {
      disk_bus: str('Disk bus', 'The controller disks attach to.', ['virtio', 'scsi', 'ide', 'sata', 'usb']),
      vif_model: str('Network interface model', 'The emulated network card.', ['virtio', 'e1000', 'rtl8139']),
      firmware_type: str('Firmware', 'BIOS or UEFI boot.', ['bios', 'uefi']),
    },
    objects: [{
      name: 'Serial console',
      description: 'Serial ports for the guest console.',
      properties: { serial_port_count: { ...int('Serial ports', 'How many serial ports the guest has.', 0) } },
    }],
  },
  {
    ...shipped('OS::Software::Guest', 'Guest operating system', 'What is installed in the image, for schedulers and people choosing an image.'),
    resource_type_associations: [image('')],
    properties: {
      os_distro: str('Distribution', 'The distribution, lower case (ubuntu, debian, fedora, cirros).'),
      os_version: str('Version', 'The distribution version (12, 24.04).'),
      os_admin_user: str('Admin user', 'The default login of the image.'),
    },
    tags: [{ name: 'linux' }, { name: 'cloud-init' }],
  },
];
