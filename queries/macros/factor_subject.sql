-- Who a factor is about, and its words: CIN codes ending A are about the child, B a parent or
-- carer, C another household member (codes 1-6); the other CIN codes are about the child; a local
-- code takes its subject and label from factor_codes.
CREATE OR REPLACE MACRO factor_subject(factor) AS coalesce(
    (SELECT subject FROM factor_codes WHERE factor_code = factor),
    CASE WHEN regexp_matches(factor, '^[1-6]B$') THEN 'parent'
         WHEN regexp_matches(factor, '^[1-6]C$') THEN 'household'
         ELSE 'child' END
);
CREATE OR REPLACE MACRO factor_label(factor) AS coalesce(
    (SELECT label FROM factor_codes WHERE factor_code = factor),
    code_label('cin_factor', factor)
);
