#!/usr/bin/env bash
# Runs the test suite in the project's venv, spread over pytest-xdist workers, and prints the
# slowest 15 tests at the end. pytest's exit 5 ("no tests ran") is a failure here: a suite
# that collects nothing must never pass.
#
#   scripts/test.sh [PYTEST_ARGS...]           the whole suite (make test, CI)
#   scripts/test.sh --check [PYTEST_ARGS...]   unit and non-UI integration tests (make check)
#
# Most tests wait far more than they compute (devices, loopback HTTP, the window's own pace),
# so there are more workers than the two cores; the windowed tests rasterise with llvmpipe and
# are what the cores are busy with. Six: with four, the cores were ~65 % busy once the windows
# drew fewer frames (pytest 460 s; six: 375-397 s on the 2-core machine; eight: 473 s, the
# cores oversubscribed). TEST_WORKERS overrides the count (0: no workers at all).
# Which tests share a worker, and in what order, is in tests/support/scheduling.py.
set -uo pipefail
cd "$(dirname "$0")/.."
export TMPDIR="$PWD/.tmp" KIVY_HOME="$PWD/.tmp/kivy" KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1
# every worker imports the whole suite: with bytecode kept (in __pycache__, ignored by git) the
# next run does not compile and assertion-rewrite it all again in each of them
export PYTHONDONTWRITEBYTECODE=
# one llvmpipe raster thread per window: the six workers share two cores, and one thread
# rasterised the screenshot tour's 480 frames with 9 % less CPU than two (21.1 s, 23.2 s)
export LP_NUM_THREADS=${LP_NUM_THREADS:-1}
mkdir -p "$TMPDIR" "$KIVY_HOME"
# Kivy makes its folders in KIVY_HOME on its first import; on a fresh clone four workers doing
# that at once race (FileExistsError on mods/ while collecting): make them once, here
.venv/bin/python -c "import kivy" >/dev/null 2>&1 || true

workers=${TEST_WORKERS:-6}
scope=()
if [ "${1:-}" = "--check" ]; then
  shift
  workers=${TEST_WORKERS:-6}
  scope=(-m "not ui" tests/unit tests/integration)
fi
.venv/bin/python -m pytest -n "$workers" --dist loadgroup --no-loadscope-reorder --durations=15 \
  "${scope[@]}" "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test: no tests were collected; failing" >&2
  exit 1
fi
exit "$rc"
