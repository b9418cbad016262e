# The two commands of the README, and a few more for technicians and developers.
# Every target sets up what it needs first (scripts/setup.sh is fast when nothing changed).

PY := .venv/bin/python
export TMPDIR := $(CURDIR)/.tmp
export KIVY_HOME := $(CURDIR)/.tmp/kivy

.PHONY: setup demo test check typecheck bench soak soak-window lint screenshots clean

setup:
	@mkdir -p $(TMPDIR) $(KIVY_HOME)
	@bash scripts/setup.sh

## demo: set everything up and run the kiosk in simulated mode (headless tour when there is no display)
demo: setup
	.venv/bin/kiosk demo $(DEMO_ARGS)

## test: set everything up and run the whole test suite (in parallel; the slowest 15 at the end)
test: setup
	@bash scripts/test.sh $(PYTEST_ARGS)

## check: the edit loop: unit and non-UI integration tests only
check: setup
	@bash scripts/test.sh --check $(PYTEST_ARGS)

## bench: print the benchmark table (figures are reported, never asserted)
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

## soak: 5,000 scripted sessions without a window; RSS / fd / thread growth per 1,000 sessions
soak: setup
	.venv/bin/kiosk soak --sessions 5000 --sample-every 100 --out out/soak/soak-5000.json $(SOAK_ARGS)

## soak-window: 500 sessions through the real offscreen window (texture and layout leaks live there)
soak-window: setup
	.venv/bin/kiosk soak --window --sessions 500 --sample-every 20 --warmup 200 --out out/soak/soak-window.json

## screenshots: every screen, standard and elder mode, Chinese and English
screenshots: setup
	.venv/bin/kiosk screenshots --out out/screenshots

lint: setup
	.venv/bin/ruff check kiosk tests bench

## typecheck: mypy on the services and their ports, the composition root and the test fakes
typecheck: setup
	.venv/bin/mypy

clean:
	rm -rf .tmp out var/kivy
