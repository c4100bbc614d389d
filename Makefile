# mmdl: the two commands of the README.
#   make demo  - create .venv if missing, install mmdl and its dependencies,
#                train and test the quick-start config on bundled data
#   make test  - the same set-up, then the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmdl-installed
DEMO_CONFIG ?= configs/quickstart/lenet5_1xb32-40e_digits.py
DEMO_WORK_DIR ?= work_dirs/demo
# the suite runs on 2 workers (pytest-xdist), one thread each, whole modules
# per worker, the longest first (tests/conftest.py)
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): setup.py requirements.txt requirements/runtime.txt \
		requirements/tests.txt requirements/optional.txt \
		tools/misc/install_mmcv.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) tools/misc/install_mmcv.py
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR) --threads 1
	$(PY) tools/test.py $(DEMO_CONFIG) \
		"$$(cat $(DEMO_WORK_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_WORK_DIR)/test --threads 1

test: setup
	$(PY) -m pytest tests -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		$(PYTEST_ARGS)

clean:
	rm -rf $(VENV) work_dirs build *.egg-info
