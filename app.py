"""Serve the Archive QA chat page: `python app.py [--host H] [--port P] [--index DIR] [--model M] [--archive DIR]`.

The same as `qa serve` (options are parsed in `qa.page.web.main`). With no index yet, it first indexes the
archive given; with neither, the bundled sample archive is indexed into ./index.
"""

from qa.page import main

if __name__ == "__main__":
    main()
