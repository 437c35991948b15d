"""Second-stage ranking: a small network over signals the first stage ignores.

The fused first stage scores a chunk by its BM25 and cosine alone. A question's evidence often sits in
one sentence that repeats the question's wording ("whether a team will lead at the end of a certain
quarter") or means the same (the best cosine between the question and one of the chunk's sentence
vectors; and between each part of the question and a sentence, since a multi-part question asks
one thing of each source and the passage that answers one part best stands out), in the report of
the outlet or the day the question names, in an article whose other chunks also match, and near the
top of a news story. Each of those is a feature; the weights are fitted on MultiHop-RAG dev queries by
`eval/train_rerank.py` and shipped in `qa/data/rerank.json` (the same for every archive; nothing reads
a benchmark's answers at query time).

- `context`: one builder (`build_context`) of what the features read about the candidates, over a
  narrow by-row reader of the index (`CandidateReader`);
- `features`: the registry, `name -> function(context)`; a new feature is a function there;
- `model`: the `Ranker`, loaded from the weights file, which names its features.
"""

from qa.rerank.context import CandidateReader, Context, PartEmbedder, best_cosines, build_context, question_parts
from qa.rerank.features import FEATURES, feature, feature_matrix, part_cover
from qa.rerank.model import WEIGHTS_FILE, Ranker, default_ranker, weights_file

__all__ = ["FEATURES", "WEIGHTS_FILE", "CandidateReader", "Context", "PartEmbedder", "Ranker", "best_cosines",
           "build_context", "default_ranker", "feature", "feature_matrix", "part_cover", "question_parts",
           "weights_file"]
