#!/usr/bin/env bash
# Installs the kiosk's systemd units on a terminal: the "kiosk" user (it runs both units),
# the PAM service cage's session needs, the units in /etc/systemd/system, then daemon-reload
# and enable. Idempotent: run it again after an update; only what changed is touched.
#
#   scripts/install-systemd.sh [--dry-run] [--no-backend] [--no-nightly] [--now]
#
#   --dry-run     print what would be done, change nothing (no root needed)
#   --no-backend  do not enable the reference backend (a terminal on the real platform)
#   --no-nightly  do not enable the 03:30 restart timer
#   --now         also start (or restart) the units
#
# Expects the checkout at /opt/kiosk with its .venv (make setup), the config at
# /etc/kiosk/kiosk.toml, and the Debian packages cage and pcscd. See docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DRY_RUN=0 BACKEND=1 NIGHTLY=1 NOW=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    --no-backend) BACKEND=0 ;;
    --no-nightly) NIGHTLY=0 ;;
    --now) NOW=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install-systemd: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
UNITS=(kiosk.service kiosk-backend.service kiosk-nightly-restart.service kiosk-nightly-restart.timer)
GROUPS_NEEDED=(video render input dialout)

run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would run: $*"
  else
    echo "+ $*"
    "$@"
  fi
}

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-systemd: run as root (or with --dry-run)" >&2
  exit 1
fi

for g in "${GROUPS_NEEDED[@]}"; do
  getent group "$g" >/dev/null || run groupadd --system "$g"
done

if ! getent passwd kiosk >/dev/null; then
  run useradd --system --home-dir /var/lib/kiosk --no-create-home --shell /usr/sbin/nologin \
    --user-group --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" --comment "self-service kiosk" kiosk
else
  for g in "${GROUPS_NEEDED[@]}"; do
    id -nG kiosk | tr ' ' '\n' | grep -qx "$g" || run usermod --append --groups "$g" kiosk
  done
fi
# cage takes the seat through a logind session: PAMName=kiosk needs this PAM service
PAM_FILE=/etc/pam.d/kiosk
if [ ! -f "$PAM_FILE" ]; then
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would write: $PAM_FILE (pam_unix account, pam_systemd session)"
  else
    printf '%s\n' "# the kiosk's session on tty1 (systemd/kiosk.service, PAMName=kiosk)" \
      "auth     required pam_permit.so" "account  required pam_unix.so" \
      "session  required pam_unix.so" "session  required pam_systemd.so" > "$PAM_FILE"
    echo "+ wrote $PAM_FILE"
  fi
fi

changed=0
for unit in "${UNITS[@]}"; do
  if cmp -s "systemd/$unit" "$UNIT_DIR/$unit"; then
    echo "unchanged: $UNIT_DIR/$unit"
  else
    run install -D -m 0644 "systemd/$unit" "$UNIT_DIR/$unit"
    changed=1
  fi
done
if [ "$changed" -eq 1 ]; then
  run systemctl daemon-reload
fi

ENABLE=(kiosk.service)
[ "$BACKEND" -eq 1 ] && ENABLE+=(kiosk-backend.service)
[ "$NIGHTLY" -eq 1 ] && ENABLE+=(kiosk-nightly-restart.timer)
run systemctl enable "${ENABLE[@]}"
if [ "$BACKEND" -eq 0 ]; then
  run systemctl disable kiosk-backend.service
fi
if [ "$NIGHTLY" -eq 0 ]; then
  run systemctl disable kiosk-nightly-restart.timer
fi
if [ "$NOW" -eq 1 ]; then
  run systemctl restart "${ENABLE[@]}"
fi

[ -f /etc/kiosk/kiosk.toml ] || echo "note: /etc/kiosk/kiosk.toml is missing; copy config/kiosk.toml there and edit it"
[ -x /opt/kiosk/.venv/bin/kiosk ] || echo "note: /opt/kiosk/.venv/bin/kiosk is missing; put the checkout in /opt/kiosk and run make setup"
command -v cage >/dev/null || echo "note: cage is not installed (apt-get install cage)"
if [ "$DRY_RUN" -eq 1 ]; then
  echo "install-systemd: dry run, nothing changed"
else
  echo "install-systemd: done"
fi
