#!/bin/sh
# Run a command in a fresh network namespace that has only loopback.
# Root gets a plain network namespace; anyone else a user namespace too.
set -eu
if [ "$(id -u)" -eq 0 ]; then
    exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' isolated "$@"
fi
exec unshare --user --map-root-user --net -- sh -c 'ip link set lo up && exec "$@"' isolated "$@"
