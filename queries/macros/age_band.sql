-- Age bands (the DfE children in need bands) and ethnicity groups (the DfE major groups).
-- age_band(birth_date, on_date): age in whole years on the date; an unborn child is 'unborn'.
CREATE OR REPLACE MACRO age_band(birth_date, on_date) AS
    CASE
        WHEN birth_date > on_date THEN 'unborn'
        WHEN date_diff('year', birth_date, on_date)
             - CASE WHEN strftime(on_date, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END < 1 THEN 'under 1'
        WHEN date_diff('year', birth_date, on_date)
             - CASE WHEN strftime(on_date, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END < 5 THEN '1-4'
        WHEN date_diff('year', birth_date, on_date)
             - CASE WHEN strftime(on_date, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END < 10 THEN '5-9'
        WHEN date_diff('year', birth_date, on_date)
             - CASE WHEN strftime(on_date, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END < 16 THEN '10-15'
        ELSE '16+'
    END;
CREATE OR REPLACE MACRO ethnicity_group(code) AS
    CASE
        WHEN code IS NULL OR code IN ('REFU', 'NOBT') THEN 'Not known'
        WHEN code LIKE 'W%' THEN 'White'
        WHEN code LIKE 'M%' THEN 'Mixed'
        WHEN code LIKE 'A%' THEN 'Asian'
        WHEN code LIKE 'B%' THEN 'Black'
        ELSE 'Other'
    END;
