"""pages/_frame.table_layout: the identifying column pinned and a sensible number of rows in view."""

from __future__ import annotations

import polars as pl

from pages._frame import ROW_PX, TABLE_ROWS, WRAPPED_ROW_PX, table_layout


def test_the_first_column_is_pinned_keeping_the_pages_own_settings():
    frame = pl.DataFrame({"Team": ["Assessment North"], "Referrals": [12]})
    config, sizes = table_layout(frame, {"Team": {"width": "large"}, "Referrals": "Referrals (12 months)"})
    assert config == {"Team": {"width": "large", "pinned": True}, "Referrals": {"label": "Referrals (12 months)"}}
    assert sizes == {"row_height": ROW_PX, "height": ROW_PX * 2 + 3}  # the header and the one row


def test_a_hidden_first_column_stays_hidden_and_long_tables_show_twenty_rows():
    frame = pl.DataFrame({"id": list(range(50)), "Event": ["Visit"] * 50})
    config, sizes = table_layout(frame, {"id": None})
    assert config == {"id": None}
    assert sizes["height"] == ROW_PX * (TABLE_ROWS + 1) + 3


def test_long_text_gets_a_fixed_width_and_rows_tall_enough_to_wrap():
    verdict = "Better than similar children without it: about 6 more in every 100 had no new referral within a year."
    frame = pl.DataFrame({"Service": ["Family Group Conference"] * 30, "What the data say": [verdict] * 30})
    config, sizes = table_layout(frame, None)
    assert config["What the data say"] == {"width": "large"} and "width" not in config["Service"]
    assert sizes == {"row_height": WRAPPED_ROW_PX, "height": ROW_PX + WRAPPED_ROW_PX * TABLE_ROWS // 2 + 3}
