"""Search: the first stage of answering a question. Dense (FAISS) and lexical (BM25) candidates from
the index, fused, filtered by kind and date, capped per document, then handed to the reranker
(`retrieve`).

It may import the index (`qa.index`), the reranker (`qa.rerank`), the embedders (`qa.embed`) and
the shared modules at the top of `qa`; never the answer layer, the pipeline or the page. The BM25
arrays themselves are part of a build, so they live in the index (`qa.index.lexical`).
"""

from qa.search.retrieve import Filters, Mode, Retriever, cap_per_document

__all__ = ["Filters", "Mode", "Retriever", "cap_per_document"]
