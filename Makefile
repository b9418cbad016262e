# The two commands of the README, and a few more for technicians and developers.
# Every target sets up what it needs first (scripts/setup.sh is fast when nothing changed).

PY := .venv/bin/python
export TMPDIR := $(CURDIR)/.tmp
export KIVY_HOME := $(CURDIR)/.tmp/kivy

.PHONY: setup demo test test-fast bench lint screenshots clean

setup:
	@mkdir -p $(TMPDIR) $(KIVY_HOME)
	@bash scripts/setup.sh

## demo: set everything up and run the kiosk in simulated mode (headless tour when there is no display)
demo: setup
	.venv/bin/kiosk demo $(DEMO_ARGS)

## test: set everything up and run the whole test suite
test: setup
	@bash scripts/test.sh $(PYTEST_ARGS)

## bench: print the benchmark table (figures are reported, never asserted)
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

lint: setup
	.venv/bin/ruff check kiosk tests bench

clean:
	rm -rf .tmp out var/kivy
