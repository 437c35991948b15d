"""Serve the Archive QA chat page: `python app.py [--host H] [--port P] [--index DIR] [--archive DIR]`.

The same as `qa serve`. With no index yet, it first indexes the archive given (default: the
bundled sample archive in qa/data/sample_archive).
"""

from qa.web import main

if __name__ == "__main__":
    main()
