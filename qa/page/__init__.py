"""The chat page: a conversation with the archive in the browser (Gradio).

It owns the page's layout, handlers and server (`web`), a turn of the conversation (`chat`), all of
the page's HTML (`render`, where archive text is escaped) and who may use the page (`access`). It
may import the pipeline, the index build (`qa.build`), the answer layer's exported names and
everything below them; nothing but the command line (`qa.cli`) imports it. Gradio is loaded when the
page is built, never when this package is imported.
"""

from qa.page.web import main, serve

__all__ = ["main", "serve"]
