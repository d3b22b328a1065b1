#!/usr/bin/env bash
# Builds novact's tiny test guest into ${NOVACT_TEST_IMAGE_DIR:-$HOME/.cache/novact/test-image-<recipe>}
# (<recipe>: the first 12 hex digits of this script's sha256, so checkouts with different recipes
# sharing one home do not rebuild over each other):
#   vmlinuz      Debian's current amd64 kernel (apt-get download + dpkg-deb -x: nothing is installed)
#   vmlinux      the same kernel uncompressed (ELF), which QEMU boots through its PVH entry: under
#                TCG that skips the ~10 s the bzImage spends unpacking itself
#   initrd.img   a busybox-static initramfs whose /init prints markers and the config drive to the
#                serial console (see guest_init below), with the kernel modules it needs
#   disk.qcow2   a blank 64 MiB qcow2 root disk (the guest boots from kernel + initrd)
#   manifest.json  names, sizes, sha256 and md5 of each, the kernel version and the command line
# Idempotent: does nothing when the manifest was written by this same script; the manifest is
# written last, so its presence means the build finished. Concurrent runs wait on a lock.
set -euo pipefail

say() { echo "test-image: $*" >&2; }
die() { say "error: $*"; exit 1; }

self="$(readlink -f "${BASH_SOURCE[0]}")"
recipe="$(sha256sum "$self" | cut -d' ' -f1)"
out="${NOVACT_TEST_IMAGE_DIR:-$HOME/.cache/novact/test-image-${recipe:0:12}}"
cmdline="console=ttyS0"
disk_size="64M"
# What /init needs: virtio disks and NICs, an IDE (pc) or SATA/AHCI (q35) cdrom, ISO 9660, and the
# ACPI power button as an input device for acpid. Their dependencies come from modules.dep.
wanted_modules=(virtio_pci virtio_blk virtio_net ata_piix ahci sr_mod isofs button evdev)

built() {
  [ -f "$out/manifest.json" ] && grep -q "\"recipe\": \"$recipe\"" "$out/manifest.json" \
    && [ -f "$out/vmlinuz" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initrd.img" ] && [ -f "$out/disk.qcow2" ]
}

mkdir -p "$out"
if built; then say "up to date in $out"; exit 0; fi
exec 9>"$out/.lock"
flock 9
if built; then say "built meanwhile in $out"; exit 0; fi

for tool in apt-get apt-cache dpkg-deb cpio gzip xz qemu-img sha256sum md5sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (run scripts/setup.sh)"
done
[ -x /bin/busybox ] || die "/bin/busybox is missing (apt-get install busybox-static)"

work="$(mktemp -d "${TMPDIR:-/tmp}/novact-test-image-XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- the kernel ----------------------------------------------------------------------------------
kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
pkg="$(kernel_package)"
if [ -z "$pkg" ]; then
  say "apt-get update (no package lists name linux-image-amd64)"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
  pkg="$(kernel_package)"
fi
[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package"
kver="${pkg#linux-image-}"
say "downloading $pkg"
# As root, apt hands downloads to the _apt user, which cannot write into our private dir.
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
(cd "$work" && apt-get download -qq "${sandbox[@]}" "$pkg")
deb="$(ls "$work"/"$pkg"_*.deb)"
dpkg-deb -x "$deb" "$work/kernel"
moddir="$work/kernel/lib/modules/$kver"
[ -f "$work/kernel/boot/vmlinuz-$kver" ] || die "$deb holds no /boot/vmlinuz-$kver"
# The package ships no modules.dep (its postinst runs depmod): make one on the unpacked tree.
if [ ! -f "$moddir/modules.dep" ]; then
  if command -v depmod >/dev/null 2>&1; then depmod -b "$work/kernel" "$kver"
  else busybox depmod -b "$work/kernel" "$kver"
  fi
fi

# --- the modules, dependencies first ---------------------------------------------------------------
declare -A dep_path=() deps_of=() loaded=()
while IFS=: read -r path deps; do
  name="$(basename "$path")"
  name="${name%%.ko*}"
  name="${name//-/_}"
  dep_path[$name]="$path"
  deps_of[$name]="$deps"
done < "$moddir/modules.dep"

order=()
add_module() {
  local name="$1" dep dname
  [ -z "${loaded[$name]:-}" ] || return 0
  [ -n "${dep_path[$name]:-}" ] || die "module $name is not in $kver's modules.dep"
  loaded[$name]=1
  for dep in ${deps_of[$name]}; do
    dname="$(basename "$dep")"
    dname="${dname%%.ko*}"
    add_module "${dname//-/_}"
  done
  order+=("$name")
}
for m in "${wanted_modules[@]}"; do
  # Built into this kernel: nothing to load.
  grep -q "/${m//_/[-_]}\.ko\$" "$moddir/modules.builtin" 2>/dev/null && continue
  add_module "$m"
done

root="$work/initramfs"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt/config,etc/acpi/PWRF,lib/modules}
for name in "${order[@]}"; do
  src="$moddir/${dep_path[$name]}"
  dst="$root/lib/modules/$name.ko"
  # busybox insmod loads plain modules only: unpack compressed ones here.
  case "$src" in
    *.ko) cp "$src" "$dst" ;;
    *.ko.xz) xz -dc "$src" > "$dst" ;;
    *.ko.zst) zstd -qdc "$src" > "$dst" ;;
    *.ko.gz) gzip -dc "$src" > "$dst" ;;
    *) die "unknown module format: $src" ;;
  esac
done
printf '%s\n' "${order[@]}" > "$root/etc/modules.order"

# --- the initramfs ---------------------------------------------------------------------------------
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

cat > "$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# busybox acpid runs this on the ACPI power button (libvirt's soft shutdown); acpid itself has
# no console, so this writes to it.
echo "novact-tiny: power button, powering off" > /dev/console
umount /mnt/config 2>/dev/null
sync
poweroff -f
EOF
chmod 755 "$root/etc/acpi/PWRF/00000080"

cat > "$root/init" <<'EOF'
#!/bin/sh
# novact's tiny test guest. The kernel runs with console=ttyS0, so the console is the serial port.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
say() { echo "novact-tiny: $*"; }
say "booted $(uname -r)"

while read -r m; do insmod "/lib/modules/$m.ko" || say "insmod $m failed"; done < /etc/modules.order
say "modules loaded"

# The NICs as the guest's kernel sees them: name, MAC (the port's) and MTU (virtio's host_mtu).
for n in /sys/class/net/*; do
  [ "${n##*/}" = lo ] || say "nic ${n##*/} $(cat "$n/address") mtu $(cat "$n/mtu")"
done

# The config drive: an ISO 9660 volume labelled config-2 (a virtio disk or a cdrom). Disks may
# appear a moment after their driver loads (ATA probes asynchronously): look for up to 5 s.
drive=""
i=0
while [ $i -lt 50 ]; do
  drive="$(findfs LABEL=config-2 2>/dev/null)" && break
  drive=""
  i=$((i + 1))
  sleep 0.1
done
show() {
  f="/mnt/config/openstack/latest/$1"
  if [ ! -f "$f" ]; then say "missing $1"; return; fi
  say "begin $1"
  cat "$f"
  [ -z "$(tail -c 1 "$f")" ] || echo
  say "end $1"
}
if [ -z "$drive" ]; then
  say "no config drive"
elif mount -t iso9660 -o ro "$drive" /mnt/config; then
  say "config drive $drive"
  show meta_data.json
  show user_data
  show network_data.json
  if [ "$(head -c 2 /mnt/config/openstack/latest/user_data 2>/dev/null)" = '#!' ]; then
    cp /mnt/config/openstack/latest/user_data /tmp/user_data
    chmod 755 /tmp/user_data
    say "running user_data"
    /tmp/user_data
    say "user_data exited $?"
  fi
else
  say "cannot mount config drive $drive"
fi

acpid -c /etc/acpi -l /tmp/acpid.log -p /tmp/acpid.pid || say "acpid failed"
say "ready"
while :; do sleep 3600; done
EOF
chmod 755 "$root/init"

# --- assemble --------------------------------------------------------------------------------------
stage="$work/out"
mkdir -p "$stage"
cp "$work/kernel/boot/vmlinuz-$kver" "$stage/vmlinuz"
# The bzImage's payload is one xz stream (Debian's amd64 kernels are CONFIG_KERNEL_XZ): the first
# offset where the xz magic unpacks to an ELF file is the kernel.
for offset in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$stage/vmlinuz" | cut -d: -f1); do
  # xz stops at the stream's end, before tail has written the rest: tail's SIGPIPE is no failure.
  if xz -dc --single-stream < <(tail -c +"$((offset + 1))" "$stage/vmlinuz") > "$stage/vmlinux" 2>/dev/null \
    && [ "$(head -c 4 "$stage/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
    break
  fi
  rm -f "$stage/vmlinux"
done
[ -f "$stage/vmlinux" ] || die "no xz-compressed ELF kernel inside vmlinuz-$kver"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$stage/initrd.img"
qemu-img create -q -f qcow2 "$stage/disk.qcow2" "$disk_size"

entry() { # role name disk_format container_format
  local f="$stage/$2"
  printf '    "%s": { "name": "%s", "size": %s, "sha256": "%s", "md5": "%s", "diskFormat": "%s", "containerFormat": "%s" }' \
    "$1" "$2" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$(md5sum "$f" | cut -d' ' -f1)" "$3" "$4"
}
modules_json="$(printf '"%s", ' "${order[@]}")"
{
  echo '{'
  echo "  \"recipe\": \"$recipe\","
  echo "  \"kernelVersion\": \"$kver\","
  echo "  \"kernelPackage\": \"$(basename "$deb")\","
  echo "  \"osCommandLine\": \"$cmdline\","
  echo "  \"diskVirtualSize\": $(qemu-img info --output=json "$stage/disk.qcow2" | awk -F'[:,]' '/"virtual-size"/ { gsub(/ /, "", $2); print $2; exit }'),"
  echo "  \"modules\": [${modules_json%, }],"
  echo '  "files": {'
  entry kernel vmlinuz aki aki; echo ','
  entry pvhKernel vmlinux aki aki; echo ','
  entry ramdisk initrd.img ari ari; echo ','
  entry disk disk.qcow2 qcow2 bare; echo
  echo '  }'
  echo '}'
} > "$stage/manifest.json"

rm -f "$out/manifest.json"
for f in vmlinuz vmlinux initrd.img disk.qcow2; do mv -f "$stage/$f" "$out/$f"; done
mv -f "$stage/manifest.json" "$out/manifest.json"
say "built $out (kernel $kver, modules: ${order[*]})"
