"""Statistics for small aggregated tables (counts already computed in DuckDB), shared by the pages.

Pure numpy and scipy.special (scipy.stats only in `fisher_exact_p`, the workbench's single tables); inputs
may be plain numbers, lists, numpy arrays or polars Series, and outputs are floats, tuples, numpy arrays
or small polars DataFrames. Each function's docstring cites its method.

- proportions: `wilson_interval`, `wilson_intervals`, `newcombe_difference_interval`, `relative_lift`
- contingency: `fisher_exact_p`, `fisher_exact_p_values`
- multiple: `benjamini_hochberg`, `bh_discoveries`
- survival: `kaplan_meier`, `km_median`, `logrank_test` (all accept frequency weights)
- diagnostics: `auc_with_ci`, `hanley_mcneil_se`, `brier_score`
- funnel: `funnel_limits`, `overdispersion`, `adjusted_funnel_limits`
- forecast: `mase`
- distributions: scipy.stats' normal, chi-square, gamma, binomial and hypergeometric tails and quantiles
  and `rankdata`, to the bit, from scipy.special (whose import costs a third of scipy.stats')
"""

from queries.stats.contingency import fisher_exact_p, fisher_exact_p_values
from queries.stats.diagnostics import auc_with_ci, brier_score, hanley_mcneil_se
from queries.stats.forecast import mase
from queries.stats.funnel import adjusted_funnel_limits, funnel_limits, overdispersion
from queries.stats.multiple import benjamini_hochberg, bh_discoveries
from queries.stats.proportions import newcombe_difference_interval, relative_lift, wilson_interval, wilson_intervals
from queries.stats.survival import kaplan_meier, km_median, logrank_test

__all__ = [
    "adjusted_funnel_limits",
    "auc_with_ci",
    "benjamini_hochberg",
    "bh_discoveries",
    "brier_score",
    "fisher_exact_p",
    "fisher_exact_p_values",
    "funnel_limits",
    "hanley_mcneil_se",
    "kaplan_meier",
    "km_median",
    "logrank_test",
    "mase",
    "newcombe_difference_interval",
    "overdispersion",
    "relative_lift",
    "wilson_interval",
    "wilson_intervals",
]
