"""ChildStat: the router and the frame every page shares.

Pages are found, not listed: every `pages/*.py` not starting with `_` declares
`PAGE = {"title": ..., "description": ..., "icon": ..., "order": ...}`, a
`render(container)` function, and ends with `if __name__ == "__main__": page_main(render)`. Adding a page
file adds it to the navigation.
Run with `streamlit run app.py [-- --data DIR]`; else CHILDSTAT_DATA names the
extract folder, else the shipped sample_data/ is used.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def page_files() -> list[Path]:
    return sorted(p for p in PAGES_DIR.glob("*.py") if not p.name.startswith("_"))


def page_meta(path: Path) -> dict:
    """The PAGE dict of a page file, read without running the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGE" for t in node.targets):
            return ast.literal_eval(node.value)
    raise ValueError(f"{path.name} has no PAGE = {{...}} declaration")


def navigation_pages() -> list[st.Page]:
    metas = sorted(((page_meta(p), p) for p in page_files()), key=lambda mp: (mp[0].get("order", 99), mp[1].name))
    return [
        st.Page(
            str(path.relative_to(PAGES_DIR.parent)),
            title=meta["title"],
            icon=meta.get("icon"),
            url_path=path.stem,
            default=index == 0,
        )
        for index, (meta, path) in enumerate(metas)
    ]


def draw_frame() -> None:
    """Council, as_of, which extract, and the data-quality badge, in the sidebar of every page."""
    from pages._frame import loaded, quality_badge

    state = loaded()
    with st.sidebar:
        if state.engine is None:
            st.error("No usable extract loaded", icon=":material/error:")
            st.caption(state.problem)
            return
        extract = state.engine.extract
        st.markdown(f"**{extract.la_name}**")
        st.caption(f"Figures as at **{extract.as_of:%d %B %Y}** ({extract.as_of_source})")
        st.caption(f"Extract: `{extract.path.name}`")
        label, icon = quality_badge(state)
        st.page_link("pages/data_quality.py", label=label, icon=icon)


def apply_data_argument(argv: list[str]) -> None:
    """`streamlit run app.py -- --data DIR` takes precedence over CHILDSTAT_DATA."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data")
    known, _ = parser.parse_known_args(argv)
    if known.data:
        os.environ["CHILDSTAT_DATA"] = known.data


def main() -> None:
    from pages._frame import routed

    apply_data_argument(sys.argv[1:])
    st.set_page_config(page_title="ChildStat", page_icon=":material/child_care:", layout="wide")
    page = st.navigation(navigation_pages())
    draw_frame()
    routed(page.run)


main()
