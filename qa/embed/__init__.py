"""The embedders: text → unit float32 vectors, and the model's own token counts.

It owns the `Embedder` protocol and `load_embedder` with the torch (sentence-transformers) and hash
embedders (`models`), the packaged model as int8 ONNX (`onnx_int8`), embedding a build through Ray
(`ray_build`), and what every embedder shares (`vectors`: batches, spans, pooling, the packaged
model's folder and weights hash). It may import only the shared modules at the top of `qa`
(`config`, `errors`, `cache` …). torch, onnxruntime and Ray are loaded when an embedder is made,
never when this package is imported.
"""

from qa.embed.models import (
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    check_device,
    load_embedder,
    searchable_with,
)

__all__ = ["Embedder", "HashEmbedder", "SentenceTransformerEmbedder", "check_device", "load_embedder",
           "searchable_with"]
