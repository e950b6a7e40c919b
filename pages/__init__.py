"""ChildStat pages: each file declares PAGE and render(container); app.py finds them."""
