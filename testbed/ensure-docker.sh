#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, for the testbed engine (.ci/run calls
# this before `npm run test:testbed`). Idempotent:
#   - `docker info` answers already: nothing to do, exit 0 (whatever engine that is);
#   - else install Debian's docker.io if dockerd is missing, start
#       dockerd --data-root /var/lib/migsim-docker   (log: /var/log/migsim-dockerd.log)
#     in the background and wait up to 60 s for `docker info`;
#   - never answers: exit 1 with the log's tail.
# Needs root (apt, dockerd). The data root is our own, so the testbed's images and
# containers never mix with another engine's state on the same disk.
set -uo pipefail

DATA_ROOT=/var/lib/migsim-docker
LOG=/var/log/migsim-dockerd.log
WAIT_S=60

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  say "the Docker engine does not answer and starting one needs root (run: sudo $0)"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  say "installing docker.io (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io; } >&2; then
    say "apt-get install docker.io failed"
    exit 1
  fi
fi

# A dockerd of ours that is still starting (e.g. a concurrent call): wait for it rather than
# starting a second daemon on the same data root.
if ! pgrep -f -- "dockerd --data-root $DATA_ROOT" >/dev/null 2>&1; then
  say "starting dockerd --data-root $DATA_ROOT (log: $LOG)"
  mkdir -p "$DATA_ROOT" "$(dirname "$LOG")"
  # setsid + nohup: the daemon outlives this script and the shell that ran it. So it must
  # not keep any descriptor of ours beyond 0-2: a caller's `flock` on a lock file or a CI
  # runner's pipe would otherwise stay held for as long as the daemon runs.
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      n=${fd##*/}
      if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi
    done
    exec setsid nohup dockerd --data-root "$DATA_ROOT" >>"$LOG" 2>&1 </dev/null
  ) &
fi

for _ in $(seq 1 "$WAIT_S"); do
  if docker info >/dev/null 2>&1; then
    say "docker engine answers"
    exit 0
  fi
  sleep 1
done

say "docker info did not answer within ${WAIT_S} s${DOCKER_HOST:+ (DOCKER_HOST=$DOCKER_HOST)}"
if [ -s "$LOG" ]; then
  say "last lines of $LOG:"
  tail -n 30 "$LOG" >&2
else
  say "$LOG is empty or missing (a dockerd not started by this script?)"
fi
exit 1
