"""Archive QA: cited answers from a news archive's articles and reader comments."""

__version__ = "0.1.0"
