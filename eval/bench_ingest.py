"""Reader speed and memory: the HTML reader's pages per second, and the WordPress-export reader's
peak memory on generated exports of growing size (it streams, so the peak should not grow).

    python eval/bench_ingest.py                  # HTML: 20 rounds over 16 pages; WXR: 10 MB and 100 MB
    python eval/bench_ingest.py --wxr-mb 10 100 300 --rounds 50

Each export is read in a fresh Python process that only counts the documents (the build itself
keeps every document, so its memory does grow with the archive; this measures the reader).
Peak memory is the process's maximum resident set size (`ru_maxrss`).
"""

from __future__ import annotations

import argparse
import html
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = sorted((ROOT / "qa" / "data" / "sample_html").glob("*.html")) + sorted(
    (ROOT / "tests" / "fixtures" / "formats").glob("*.html"))
HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench Monitor</title><wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login><![CDATA[writer]]></wp:author_login>
<wp:author_display_name><![CDATA[A. Writer]]></wp:author_display_name></wp:author>
"""


def bench_html(rounds: int) -> None:
    from qa.ingest.html import decode_html, parse_html

    data = [(p.stem, p.read_bytes()) for p in PAGES]
    parse_html(decode_html(data[0][1]), "warm-up")
    started, cpu_started = time.perf_counter(), time.process_time()
    comments = 0
    for _ in range(rounds):
        for stem, raw in data:
            comments += len(parse_html(decode_html(raw), stem).comments)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    pages = rounds * len(data)
    size = sum(len(raw) for _, raw in data) / len(data) / 1024
    print(f"HTML reader: {pages} pages ({len(data)} distinct, mean {size:.1f} KiB, {comments} comments) in "
          f"{seconds:.2f} s: {pages / seconds:.0f} pages/s, {1000 * seconds / pages:.2f} ms/page "
          f"(CPU time: {pages / cpu:.0f} pages/s, {1000 * cpu / pages:.2f} ms/page; one core)")


def _post(n: int) -> str:
    body = "\n\n".join(f"Paragraph {k} of post {n}: the border detachment at post {n % 97} reported "
                       f"{n * 7 % 113} crossings and {k} incidents during the week, officials said." for k in range(12))
    comments = "".join(
        f"<wp:comment><wp:comment_id>{n * 10 + c}</wp:comment_id><wp:comment_author><![CDATA[reader{c}]]>"
        f"</wp:comment_author><wp:comment_date_gmt>2024-03-0{c + 1} 10:00:00</wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[Comment {c} on post {n}: {html.escape('I doubt the figures & the dates.')}]]>"
        f"</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>"
        f"<wp:comment_parent>{n * 10 + c - 1 if c else 0}</wp:comment_parent></wp:comment>" for c in range(4))
    return (f"<item><title><![CDATA[Bench post {n}]]></title><link>https://bench.example/p/{n}/</link>"
            f"<dc:creator><![CDATA[writer]]></dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>"
            f"<wp:post_id>{n}</wp:post_id><wp:post_date_gmt>2024-03-01 09:00:00</wp:post_date_gmt>"
            f"<wp:post_name>bench-post-{n}</wp:post_name><wp:status>publish</wp:status>"
            f"<wp:post_type>post</wp:post_type><category domain=\"category\"><![CDATA[Border]]></category>"
            f"{comments}</item>\n")


def write_export(path: Path, megabytes: float) -> int:
    """A generated export of about `megabytes` MB; returns its number of posts."""
    target, n = megabytes * 1_000_000, 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        written = len(HEAD)
        while written < target:
            post = _post(n)
            out.write(post)
            written += len(post.encode("utf-8"))
            n += 1
        out.write("</channel></rss>\n")
    return n


def read_child(path: str) -> None:
    """In a fresh process: stream the export, keep nothing, print posts, comments, seconds, peak RSS."""
    import defusedxml.ElementTree  # noqa: F401  (imported before the baseline, as the reader imports them)
    import lxml.html  # noqa: F401

    from qa.ingest.wxr import read_wxr
    from qa.types import Document

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    posts = comments = 0
    for item in read_wxr(Path(path)):
        if isinstance(item, Document):
            posts += 1
            comments += len(item.comments)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(posts, comments, f"{seconds:.2f}", before, peak)


def tree_child(path: str) -> None:
    """For contrast: the whole export parsed into one tree, as a non-streaming reader would."""
    import defusedxml.ElementTree as DET
    import lxml.html  # noqa: F401

    import qa.ingest.wxr  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tree = DET.parse(path)
    print(len(tree.getroot()[0]), before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _child(flag: str, path: Path) -> list[str]:
    return subprocess.run([sys.executable, __file__, flag, str(path)], capture_output=True, text=True,
                          check=True).stdout.split()


def bench_wxr(sizes: list[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            path = Path(tmp) / f"export-{mb:g}mb.xml"
            n = write_export(path, mb)
            out = _child("--wxr-child", path)
            posts, comments, seconds, before, peak = int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])
            assert posts == n
            size = path.stat().st_size / 2**20
            print(f"WXR reader: {size:.1f} MiB export, {posts:,} posts, {comments:,} comments in {seconds:.1f} s "
                  f"({size / seconds:.1f} MiB/s); peak RSS {peak / 1024:.0f} MiB "
                  f"({before / 1024:.0f} MiB after imports, +{(peak - before) / 1024:.0f} MiB reading)")
            _, tree_before, tree_peak = (int(v) for v in _child("--tree-child", path))
            print(f"  for contrast, the same export parsed whole into one tree: peak RSS {tree_peak / 1024:.0f} MiB "
                  f"(+{(tree_peak - tree_before) / 1024:.0f} MiB)")
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the HTML pages")
    parser.add_argument("--wxr-mb", type=float, nargs="*", default=[10, 100], help="export sizes to generate, MB")
    parser.add_argument("--wxr-child", help=argparse.SUPPRESS)
    parser.add_argument("--tree-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wxr_child or args.tree_child:
        read_child(args.wxr_child) if args.wxr_child else tree_child(args.tree_child)
        return
    bench_html(args.rounds)
    bench_wxr(args.wxr_mb)


if __name__ == "__main__":
    main()
