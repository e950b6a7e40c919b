-- Whether the extract has a usable table of this name (extract_tables is written by the engine
-- from its structural check). A question with an optional table uses it to say "unknown" rather
-- than 0 when the table is absent: no visit records is not the same as no visits.
CREATE OR REPLACE MACRO has_table(t) AS (
    SELECT coalesce(bool_or(usable), false) FROM extract_tables WHERE table_name = t
);
