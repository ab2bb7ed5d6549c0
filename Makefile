# make setup: create .venv and install (idempotent). make demo: run the demo config. make test: the test suite.
# make ls-venv: Label Studio in its own venv (.ls-venv; it pins many packages) for the annotate round-trip test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

LS_VENV ?= .ls-venv
LS_SPEC ?= "label-studio>=1.23,<2" "label-studio-sdk>=2,<3"

.PHONY: setup ls-venv demo test bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch first, so that no requirement below pulls a multi-GB CUDA build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# About 5 minutes and 1 GB on 2 CPU cores (measured: 4m45s wall). Kept apart from .venv on purpose.
$(LS_VENV)/.installed:
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet $(LS_SPEC) && touch $@ \
		|| echo "warning: label-studio could not be installed; its round-trip test will be skipped"

ls-venv: $(LS_VENV)/.installed

demo: setup
	$(PY) run_active_learning.py --config configs/demo.yaml --overwrite

test: setup ls-venv
	MLAL_LABEL_STUDIO_VENV=$(abspath $(LS_VENV)) $(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) $(LS_VENV) .pytest_cache
