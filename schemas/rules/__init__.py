"""Validation rules for an extract, one small unit per rule (in the style of the DfE CIN validator).

- `structure`: is each table readable, with every contract column of the right type?
- `row_rules`: checks within one table (codes, ranges, date order, factor codes), run by Pandera.
- `cross_rules`: checks across tables and against as_of, run as DuckDB SQL over the Parquet.
"""
