"""The knowledge base's pages: ``desk`` (article list, article page with its actions, editor with
live preview, review queue, history and diffs), ``incident`` (the desk incident page's panel:
suggestions, links, promote) and ``portal`` (search, article, feedback)."""
