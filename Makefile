# Fresh machine:  `make demo` sets up .venv with the pinned stack, trains an LMU on psDigits
#                 and runs it spiking; `make test` sets up .venv (and .venv-nir, the NIR
#                 consumer's) and runs the test suite;
#                 `make docs` builds the documentation into docs/_build/html.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: setup nir-consumer demo test test-slow test-nengo4 docs keras3-fixtures

setup: $(STAMP)

$(STAMP): constraints.txt setup.py
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 11) else "the pinned stack needs Python 3.10-3.11 (TensorFlow 2.12 and the pins), found %d.%d; run make with PYTHON=python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -c constraints.txt pip setuptools wheel
	$(VENV)/bin/python -m pip install --quiet -c constraints.txt -e ".[all]"
	$(VENV)/bin/python -m pip check
	touch $(STAMP)

# the NIR consumers (Norse, SpikingJelly, torch) in an environment of their own: tests/test_nir_consumer.py
# runs exported graphs there (torch cannot live next to the pinned TensorFlow 2.12)
NIR_VENV := .venv-nir
NIR_STAMP := $(NIR_VENV)/.installed

nir-consumer: $(NIR_STAMP)

$(NIR_STAMP): tests/nir_consumer/requirements.txt
	$(PYTHON) -m venv $(NIR_VENV)
	$(NIR_VENV)/bin/python -m pip install --quiet -r tests/nir_consumer/requirements.txt
	$(NIR_VENV)/bin/python -m pip check
	touch $(NIR_STAMP)

demo: setup
	$(VENV)/bin/nengo-lmu train psdigits --spiking --finetune-epochs 5

test: setup nir-consumer
	$(VENV)/bin/python -m pytest -n 2 --durations=10

test-slow: setup nir-consumer
	$(VENV)/bin/python -m pytest -n 2 --durations=10 --slow

# a clean build (-E), warnings as errors (-W); the notebooks are shown, not executed;
# then screenshots of the index, the API and a notebook page (where chromium exists)
docs: setup
	rm -rf docs/_build
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/sphinx-build -E -W --keep-going -b html docs docs/_build/html
	$(VENV)/bin/python docs/check_render.py docs/_build/html docs/_build/screenshots

# the suite on nengo 4.1 instead of the pinned 3.2 (see README, "Why nengo 3.2")
test-nengo4:
	sed 's/^nengo==.*/nengo==4.1.0/' constraints.txt > .venv-nengo4.txt
	$(PYTHON) -m venv .venv-nengo4
	.venv-nengo4/bin/python -m pip install --quiet -c .venv-nengo4.txt pip setuptools wheel
	.venv-nengo4/bin/python -m pip install --quiet -c .venv-nengo4.txt -e ".[all]"
	.venv-nengo4/bin/python -m pytest -n 2 -p no:cacheprovider

# Keras 3 fixtures (tests/keras3): small keras-lmu models saved by real Keras 3, with
# their outputs, made in a scratch environment (TensorFlow 2.19, Keras 3, keras-lmu
# 0.9: tests/keras3/requirements.txt), never the pinned one
KERAS3_VENV ?= .venv-keras3
keras3-fixtures:
	$(PYTHON) -m venv $(KERAS3_VENV)
	$(KERAS3_VENV)/bin/python -m pip install --quiet -r tests/keras3/requirements.txt
	$(KERAS3_VENV)/bin/python tests/keras3/make_fixtures.py
