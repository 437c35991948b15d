"""The index: a folder of builds (`folder`), the files of one build (`files`; its BM25 arrays,
`lexical`), writing one (`writer`) and reading the live one (`reader`). FAISS and SQLite are seen
nowhere else. It may import the embedders (`qa.embed`) and the shared modules at the top of `qa`;
never search, the reranker, the answer layer or anything above them."""

from qa.index.files import HNSW_ABOVE, SentenceVectors, content_hash
from qa.index.folder import (
    FILES,
    FORMAT_VERSION,
    Checkpoint,
    live_build,
    read_manifest,
    remove_stale_builds,
    writer_lock,
)
from qa.index.reader import IndexReader, PassageMeta, open_index, verify_live
from qa.index.writer import write_index

__all__ = [
    "FILES", "FORMAT_VERSION", "HNSW_ABOVE", "Checkpoint", "IndexReader", "PassageMeta", "SentenceVectors",
    "content_hash", "live_build", "open_index", "read_manifest", "remove_stale_builds", "verify_live",
    "write_index", "writer_lock",
]
