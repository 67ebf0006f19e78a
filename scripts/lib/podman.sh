# Podman as it runs on this machine kind (../shared/containers.md): as root, runc, cgroupfs,
# without podman's default ulimits, and with a storage folder of its own so nothing is shared with
# the machine's images. Source it, then call `pm ARGS...`.
#   PODMAN_HOME  where the storage and containers.conf live (default .tools/podman)
PODMAN_HOME=${PODMAN_HOME:-${FERRY_ROOT:-$(pwd)}/.tools/podman}
mkdir -p "$PODMAN_HOME"
printf '[containers]\ndefault_ulimits = []\n' > "$PODMAN_HOME/containers.conf"
export CONTAINERS_CONF="$PODMAN_HOME/containers.conf"
pm() {
  podman --root "$PODMAN_HOME/root" --runroot "$PODMAN_HOME/runroot" --runtime runc --cgroup-manager cgroupfs "$@"
}
