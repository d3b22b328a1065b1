#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine to build and test novact. Idempotent: installs only what is
# missing. It starts no services: tests run private nats-server and PostgreSQL instances themselves.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "setup: $*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root or sudo to run: $*"
  fi
}

# --- system packages, only when their binaries are missing --------------------------------------
packages=()
[ -x /usr/sbin/nats-server ] || packages+=(nats-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
# The real openstack CLI, which the REST API tests drive (test/api/openstack-cli.test.ts).
[ -x /usr/bin/openstack ] || packages+=(python3-openstackclient)
# Real guests (hosts/libvirt/): a session-mode libvirtd per host, QEMU (TCG where KVM does not
# work), qemu-img for disks, xorriso for config drives, busybox and cpio for the tiny test image,
# and libvirt's headers, which @unraid/libvirt compiles against during `npm ci`.
[ -x /usr/sbin/libvirtd ] || packages+=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)
[ -x /usr/bin/qemu-system-x86_64 ] || packages+=(qemu-system-x86)
[ -x /usr/bin/qemu-img ] || packages+=(qemu-utils)
[ -e /usr/include/libvirt/libvirt.h ] || packages+=(libvirt-dev)
[ -x /usr/bin/xorriso ] || packages+=(xorriso)
[ -x /usr/bin/openssl ] || packages+=(openssl)
[ -x /bin/busybox ] || packages+=(busybox-static)
command -v cpio >/dev/null 2>&1 || packages+=(cpio)
# Security groups on hosts (hosts/libvirt/port-firewall.ts): nft loads a port's rule set; its test
# makes network namespaces with ip (iproute2).
[ -x /usr/sbin/nft ] || packages+=(nftables)
[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || packages+=(iproute2)
# The dashboard's browser test (test/api/dashboard-browser.test.ts) drives Debian's headless Chromium.
[ -x /usr/bin/chromium ] || packages+=(chromium)

if [ ${#packages[@]} -gt 0 ]; then
  say "installing ${packages[*]}"
  # policy-rc.d exiting 101 tells maintainer scripts not to start the services they install;
  # leave an existing policy alone.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    created_policy=yes
  fi
  cleanup_policy() { if [ -n "$created_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
  cleanup_policy
  trap - EXIT
else
  say "system packages already installed"
fi

# --- node dependencies -------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node >= 20 is required (not found)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is required (found $(node --version))"

# npm writes node_modules/.package-lock.json on every install; older than the lockfile means stale.
# A linked node_modules (a git worktree sharing another checkout's) is never reinstalled: `npm ci`
# would empty the link's target, under every checkout that shares it.
if [ -L node_modules ]; then
  say "node_modules is a link to $(readlink node_modules): left alone"
elif [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >&2
else
  say "node_modules up to date"
fi

# --- the dashboard's front end (actors/api/dashboard/ui → ui/dist, served under /dashboard) ------
say "building the dashboard"
npm run --silent build:dashboard >&2

# --- the tiny test guest (kernel, initramfs, disk) the libvirt tests boot --------------------------
bash scripts/test-image.sh
say "done"
