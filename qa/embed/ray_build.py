"""Embedding a build's passages across machines: `RayEmbedder`, an embedder that `build_index` uses
like any other, whose `embed_passages` runs through Ray Data on a local Ray instance or a cluster.

The passages are cut into the groups of `EMBED_BATCH` that a one-process build embeds one at a
time, and each group goes to a pool of actors (`map_batches` with an `ActorPoolStrategy`), each
of which loads the model once and embeds a group exactly as the one-process embedder does: the
same texts in the same model calls, so the vectors come out the same. Everything else (token
counts for chunking, questions) stays on this machine, where only the tokenizer is loaded.

Every node needs archive-qa installed, with the same model (`pip install 'archive-qa[ray]'`); an
actor whose model or package version differs from this machine's is refused, since its vectors
would not match the manifest.
"""

from __future__ import annotations

import json
import logging
import math
import re
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from qa import __version__
from qa.embed.models import EMBED_BATCH, Embedder, Span, load_embedder
from qa.embed.vectors import progress as _progress
from qa.errors import ConfigError, QAError

INSTALL = "pip install 'archive-qa[ray]'"
CONNECT_TIMEOUT = 5.0  # seconds to wait for a cluster's address to answer
CPUS_PER_ACTOR = 1  # torch in each actor gets this many threads (Ray sets OMP_NUM_THREADS)


class RayError(QAError):
    """Ray is missing, the cluster cannot be reached, or its workers do not match this machine."""


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (the `data` extra: pyarrow, pandas)
    except ImportError as exc:
        raise RayError(f"Building with --ray needs Ray Data, which is not installed ({exc.name or exc}): "
                       f"{INSTALL}") from None
    return ray


class _EmbedGroups:
    """A Ray Data actor: loads the embedder once, then embeds one group of passages per call.

    `build_actor_class` makes a subclass carrying the settings as class attributes, so they travel
    inside the pickled class rather than as constructor arguments in the object store."""

    model: str = ""
    batch_size: int = 32
    runtime: str = "torch"
    expect: tuple[str, str, str, str] = ("", "", "", "")  # model id, weights fingerprint, runtime, package version

    def __init__(self) -> None:
        self.embedder = load_embedder(self.model, self.batch_size, self.runtime)
        # one thread per actor's CPU: torch heeds the OMP_NUM_THREADS Ray sets, onnxruntime is told
        self.embedder.passage_threads = CPUS_PER_ACTOR  # type: ignore[attr-defined]
        found = (self.embedder.model_id, self.embedder.fingerprint, self.embedder.runtime, __version__)
        if found != self.expect:
            raise RayError(f"A Ray worker has model {found[0]} (weights {found[1] or 'unknown'}, {found[2]}) and "
                           f"archive-qa {found[3]}, this machine {self.expect[0]} (weights "
                           f"{self.expect[1] or 'unknown'}, {self.expect[2]}) and archive-qa {self.expect[3]}: "
                           f"install the same version on every node ({INSTALL}).")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, list[Any]] = {"at": [], "vectors": [], "sentences": [], "counts": []}
        for at, payload in zip(batch["at"], batch["payload"]):
            group = json.loads(payload)
            spans = [[(int(a), int(b)) for a, b in s] for s in group["spans"]]
            vectors, sentences = self.embedder.embed_passages(group["texts"], spans)
            out["at"].append(int(at))
            out["vectors"].append(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
            out["sentences"].append(b"".join(np.ascontiguousarray(s, dtype=np.float32).tobytes() for s in sentences))
            out["counts"].append(np.array([len(s) for s in sentences], dtype=np.int64).tobytes())
        return {"at": np.array(out["at"], dtype=np.int64),
                **{k: np.array(out[k], dtype=object) for k in ("vectors", "sentences", "counts")}}


def build_actor_class(model: str, batch_size: int, runtime: str, expect: tuple[str, str, str, str]) -> type:
    return type("EmbedPassages", (_EmbedGroups,), {"model": model, "batch_size": batch_size, "runtime": runtime,
                                                   "expect": expect})


def groups(texts: Sequence[str], spans: Sequence[Sequence[Span]], size: int = EMBED_BATCH) -> list[dict[str, Any]]:
    """The passages as rows of `size`, each its first passage's position and a JSON payload:
    `groups(["a", "b", "c"], [[(0, 1)], [], []], 2)` -> rows at 0 (texts a, b) and at 2 (text c)."""
    return [{"at": at, "payload": json.dumps({"texts": list(texts[at:at + size]),
                                              "spans": [[list(p) for p in s] for s in spans[at:at + size]]})}
            for at in range(0, len(texts), size)]


def unpack(row: dict[str, Any], dim: int) -> tuple[int, np.ndarray, list[np.ndarray]]:
    """An actor's output row back as its position, its passage vectors and their sentence vectors."""
    vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(-1, dim)
    counts = np.frombuffer(row["counts"], dtype=np.int64)
    flat = np.frombuffer(row["sentences"], dtype=np.float32).reshape(-1, dim)
    if len(counts) != len(vectors) or int(counts.sum()) != len(flat):
        raise RayError(f"A Ray worker returned {len(vectors)} vectors with {len(counts)} sentence counts "
                       f"({int(counts.sum())} for {len(flat)} sentence vectors); run the build again.")
    ends = np.cumsum(counts)
    return int(row["at"]), vectors.copy(), [flat[e - n:e].copy() for n, e in zip(counts, ends)]


def _host_port(address: str) -> tuple[str, int] | None:
    """The GCS or client-server address inside a Ray address, None for "auto" (found locally):
    `_host_port("ray://head:10001")` -> ("head", 10001)."""
    if address == "auto":
        return None
    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise RayError(f"Ray address {address!r} has no port: give HOST:6379, ray://HOST:10001 or auto.")
    return host.strip("[]"), int(port)


def _check_reachable(address: str) -> None:
    """Ray retries an unreachable address for minutes; say at once that nothing listens there."""
    where = _host_port(address)
    if where is None:
        return
    try:
        socket.create_connection(where, timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise RayError(f"Nothing answers at the Ray address {address} ({exc.strerror or exc}). Start the cluster "
                       f"(`ray start --head` on its head node) and give that address, or give --ray alone "
                       f"for a local instance.") from None


def _cause(exc: BaseException) -> str:
    """The reason inside a Ray error: the message of our own error raised in a worker when there is
    one (Ray wraps it in a traceback), else the error's first line."""
    text = str(exc)
    ours = re.findall(r"^qa\.[\w.]+Error: (.+)$", text, flags=re.M)
    if ours:
        return ours[-1].strip()
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def _quiet_ray_data() -> None:
    """Ray Data logs each run's plan (and that its bars are off) to the console; the build prints
    its own progress and summary. Its log file keeps everything."""
    for handler in logging.getLogger("ray.data").handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.ERROR)


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Ray connected to the cluster at `address`, or to a new local instance when it is None;
    disconnected (and a local instance stopped) afterwards. A caller's own session is left open."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if address:
        _check_reachable(address)
    try:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, runtime_env={"env_vars": env})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = _cause(exc)
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise RayError(f"Could not connect to {where} ({first.rstrip('.')}). Start one with `ray start --head` "
                       f"and give its address (--ray HOST:6379), or give --ray alone for a local instance.") from None
    try:
        _quiet_ray_data()
        yield ray
    finally:
        ray.shutdown()


class RayEmbedder:
    """The `model` embedder with its passages embedded by a pool of Ray actors (`address`: a
    cluster, "auto" for the one this machine belongs to, None for a new local instance).

    `actors` is the pool's size; by default one per `CPUS_PER_ACTOR` CPUs of the cluster, at most
    one per group of passages."""

    # A build embeds and journals this many passages per call (qa.journal): each call starts a Ray
    # session (10-15 s), so the blocks are larger than a one-process build's
    journal_block = 100_000

    def __init__(self, model: str, batch_size: int = 32, address: str | None = None,
                 actors: int | None = None, runtime: str = "auto") -> None:
        _ray()  # say at once when Ray is missing, before any work
        if actors is not None and actors < 1:
            raise ConfigError(f"The Ray actor pool needs at least 1 actor, got {actors}.")
        self.local: Embedder = load_embedder(model, batch_size, runtime)  # `auto`: as a one-process build picks
        self.model, self.batch_size, self.address, self.actors = model, batch_size, address, actors
        self.model_id = self.local.model_id
        self.fingerprint = self.local.fingerprint
        self.dim = self.local.dim
        self.max_tokens = self.local.max_tokens
        self.runtime, self.device = self.local.runtime, self.local.device  # what the actors run, as the manifest says
        self.used_actors = 0  # the pool size of the last run

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.embed_passages(texts, [[] for _ in texts], progress)[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self.local.embed_query(text)  # one short pass: not worth a cluster

    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        return self.local.embed_query_parts(text, spans)

    def _pool_size(self, ray: Any, n_groups: int) -> int:
        if self.actors is not None:
            return min(self.actors, n_groups)
        cpus = float(ray.cluster_resources().get("CPU", 1))
        return max(1, min(n_groups, math.floor(cpus / CPUS_PER_ACTOR)))

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)
        if not texts:
            return vectors, sentences
        rows = groups(texts, spans)
        actor = build_actor_class(self.model, self.batch_size, self.runtime,
                                  (self.model_id, self.fingerprint, self.runtime, __version__))
        with ray_session(self.address) as ray:
            ray.data.DataContext.get_current().enable_progress_bars = False
            self.used_actors = self._pool_size(ray, len(rows))
            dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
            embedded = dataset.map_batches(actor, batch_size=1, batch_format="numpy", num_cpus=CPUS_PER_ACTOR,
                                           compute=ray.data.ActorPoolStrategy(size=self.used_actors))
            done = 0
            with _progress(len(texts), progress, f"Embedding ({self.used_actors} Ray actors)") as bar:
                try:
                    for row in embedded.iter_rows():
                        at, fresh, per_sentence = unpack(row, self.dim)
                        vectors[at:at + len(fresh)] = fresh
                        sentences[at:at + len(fresh)] = per_sentence
                        done += len(fresh)
                        bar.update(len(fresh))
                except ray.exceptions.RayError as exc:
                    raise RayError(f"The Ray build failed: {_cause(exc).rstrip('.')}.") from None
        if done != len(texts):
            raise RayError(f"The Ray workers embedded {done:,} of {len(texts):,} passages; run the build again.")
        return vectors, sentences


def ray_embedder(model: str, batch_size: int, address: str | None, runtime: str = "auto") -> RayEmbedder:
    """The embedder `qa index build --ray [ADDRESS]` builds with ("" or None: a local instance)."""
    if address and Path(address).exists():
        raise RayError(f"--ray took {address!r} as a cluster address, but it is a path here: put --ray after "
                       f"the paths (qa index build PATH... --ray [ADDRESS]).")
    if address:
        _host_port(address)  # a malformed address is refused before any work
    return RayEmbedder(model, batch_size, address or None, runtime=runtime)
