"""Score retrieval, answers and citations on a question set; the same as `qa eval`.

    python eval/run.py eval/questions.jsonl [--index DIR] [--k 10] [--mode hybrid|dense|lexical]
                       [--report FILE] [--json FILE] [--no-answers]

Settings (fusion weights, depth, model …) come from qa.toml or QA_* variables, as for every `qa`
command, and are recorded in the outcome file.
"""

import sys

from qa.cli import cli

if __name__ == "__main__":
    cli(["eval", *sys.argv[1:]], prog_name="eval/run.py")
