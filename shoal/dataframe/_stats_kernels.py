"""Tree-combinable partials for the higher moments (``sem``, ``skew``, ``kurtosis``) and for ``cov``/``corr``.

Every partial is a small tuple of NumPy arrays, one entry per column (or per
pair of columns), so a reduction over any number of partitions holds only
``split_every`` of them at a time and the result is exact up to rounding.

Moments
    A partial is ``(n, mean, M2, M3, M4, nans)`` per column, where ``Mk`` is the
    sum of ``(x - mean)**k`` over the partition's non-null values and ``nans``
    counts the nulls (``nan_policy="propagate"`` needs them). Two partials merge
    with the pairwise update of Chan, Golub and LeVeque, extended to the third
    and fourth moments by Pébay ("Formulas for robust, one-pass parallel
    computation of covariances and arbitrary-order statistical moments",
    Sandia report SAND2008-6212). Central sums, unlike raw power sums, do not
    cancel catastrophically when the mean is large compared with the spread.

Co-moments
    For ``k`` columns a partial is ``(n, mean_a, mean_b, C, M2a, M2b, scale_a,
    scale_b)``, each ``k x k``: entry ``[i, j]`` describes the rows where *both* column ``i``
    and column ``j`` are non-null (pandas' pairwise-complete rule):
    ``mean_a[i, j]`` is the mean of column ``i`` on those rows, ``mean_b[i, j]``
    that of column ``j``, ``C`` the sum of products of deviations, ``M2a`` and
    ``M2b`` the sums of squared deviations (``corr`` divides by them). Inside a
    partition the columns are first shifted by their first value, which keeps
    the sums of products small and makes constant data give exactly zero; the
    ``scale`` sums bound the rounding error of ``M2``, so that a column that is
    constant on a pair's rows gives NaN, as in pandas, not a ratio of rounding
    errors. Partials merge with the same pairwise update.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["comoment_aggregate", "comoment_chunk", "comoment_combine", "moment_aggregate", "moment_chunk",
           "moment_combine", "moments_of", "numeric_matrix"]

Moments = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
CoMoments = tuple[np.ndarray, ...]


def numeric_matrix(part: Any) -> np.ndarray:
    """The values as a 2-d float array with NaN for nulls (booleans count as 0/1, nullable types as floats)."""
    if isinstance(part, pd.Series):
        part = part.to_frame()
    columns = [part.iloc[:, i].to_numpy(dtype="f8", na_value=np.nan) for i in range(part.shape[1])]
    if not columns:
        return np.empty((len(part), 0))
    return np.column_stack(columns)


# -- moments up to the fourth --------------------------------------------------------------------

def moment_chunk(part: Any) -> Moments:
    return moments_of(numeric_matrix(part))


def moments_of(x: np.ndarray) -> Moments:
    """The partial of a 2-d float array, one entry per column."""
    valid = ~np.isnan(x)
    n = valid.sum(axis=0).astype("f8")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(x, axis=0) / np.where(n > 0, n, 1), 0.0)
    d = np.where(valid, x - mean, 0.0)
    d2 = d * d
    return n, mean, d2.sum(axis=0), (d2 * d).sum(axis=0), (d2 * d2).sum(axis=0), (~valid).sum(axis=0)


def _merge_moments(a: Moments, b: Moments) -> Moments:
    na, ma, m2a, m3a, m4a, nan_a = a
    nb, mb, m2b, m3b, m4b, nan_b = b
    n = na + nb
    safe = np.where(n > 0, n, 1.0)
    delta = mb - ma
    ab = na * nb
    mean = ma + delta * nb / safe
    m2 = m2a + m2b + delta ** 2 * ab / safe
    m3 = m3a + m3b + delta ** 3 * ab * (na - nb) / safe ** 2 + 3 * delta * (na * m2b - nb * m2a) / safe
    m4 = (m4a + m4b + delta ** 4 * ab * (na * na - ab + nb * nb) / safe ** 3
          + 6 * delta ** 2 * (na * na * m2b + nb * nb * m2a) / safe ** 2 + 4 * delta * (na * m3b - nb * m3a) / safe)
    return n, mean, m2, m3, m4, nan_a + nan_b


def moment_combine(parts: list[Moments]) -> Moments:
    out = parts[0]
    for part in parts[1:]:
        out = _merge_moments(out, part)
    return out


def _sem(n: np.ndarray, m2: np.ndarray, ddof: int) -> np.ndarray:
    denom = n - ddof
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((denom > 0) & (n > 0), np.sqrt(m2 / np.where(denom > 0, denom, 1) / np.where(n > 0, n, 1)),
                        np.nan)


def _constant(n: np.ndarray, mean: np.ndarray, m2: np.ndarray, bias: bool) -> np.ndarray:
    """Where the data count as constant, so that skew and kurtosis are undefined (NaN).

    Rounding leaves a tiny ``m2`` for constant data; the thresholds are those of the reference each estimator
    mirrors: SciPy compares the variance with the float resolution at the mean, pandas zeroes ``|m2| < 1e-14``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if bias:
            return m2 / np.where(n > 0, n, 1) <= (np.finfo("f8").resolution * mean) ** 2
        return np.abs(m2) < 1e-14


def _skew(n: np.ndarray, m2: np.ndarray, m3: np.ndarray, constant: np.ndarray, bias: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        g1 = (m3 / n) / (m2 / n) ** 1.5
        if bias:
            # scipy.stats.skew: NaN for constant data (and for no data).
            return np.where((n > 0) & ~constant, g1, np.nan)
        # pandas' adjusted estimator: NaN below three values and for constant data.
        adjusted = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        return np.where((n < 3) | constant, np.nan, adjusted)


def _kurtosis(n: np.ndarray, m2: np.ndarray, m4: np.ndarray, constant: np.ndarray, fisher: bool, bias: bool
              ) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        g2 = (m4 / n) / (m2 / n) ** 2
        if bias:
            out = np.where((n > 0) & ~constant, g2, np.nan)
            return out - 3.0 if fisher else out
        adjusted = ((n + 1) * (g2 - 3.0) + 6.0) * (n - 1) / ((n - 2) * (n - 3))
        out = np.where((n < 4) | constant, np.nan, adjusted)
        return out if fisher else out + 3.0


def moment_aggregate(parts: list[Moments], kind: str, columns: Any, options: dict[str, Any]) -> Any:
    """``kind`` is ``sem``, ``skew`` or ``kurtosis``; ``columns`` is ``None`` for a Series (a scalar result)."""
    n, mean, m2, m3, m4, nans = moment_combine(parts)
    if kind == "sem":
        values = _sem(n, m2, options["ddof"])
        if not options["skipna"]:
            values = np.where(nans > 0, np.nan, values)
    else:
        constant = _constant(n, mean, m2, options["bias"])
        if kind == "skew":
            values = _skew(n, m2, m3, constant, options["bias"])
        else:
            values = _kurtosis(n, m2, m4, constant, options["fisher"], options["bias"])
        if options["nan_policy"] == "propagate":
            values = np.where(nans > 0, np.nan, values)
    values = np.asarray(values, dtype="f8")
    if columns is None:
        return np.float64(values[0])
    return pd.Series(values, index=columns, dtype="f8")


# -- pairwise co-moments ---------------------------------------------------------------------------

def comoment_chunk(*parts: Any) -> CoMoments:
    """Partials of one partition; several aligned Series (``Series.cov``) are joined as columns first."""
    if len(parts) == 1:
        x = numeric_matrix(parts[0])
    else:
        a, b = parts
        if not a.index.equals(b.index):
            # pandas' Series.cov aligns the two on their index (inner join) before pairing values.
            a, b = a.align(b, join="inner")
        x = np.column_stack([numeric_matrix(a)[:, 0], numeric_matrix(b)[:, 0]])
    valid = ~np.isnan(x)
    mask = valid.astype("f8")
    count = valid.sum(axis=0)
    first = valid.argmax(axis=0) if len(x) else np.zeros(x.shape[1], dtype=int)
    shift = np.where(count > 0, x[first, np.arange(x.shape[1])] if len(x) else 0.0, 0.0)
    d = np.where(valid, x - shift, 0.0)
    n = mask.T @ mask
    sum_a = d.T @ mask  # [i, j]: sum of column i's deviations over the rows where j is valid too
    sum_b = sum_a.T
    products = d.T @ d
    squares_a = (d * d).T @ mask
    squares_b = squares_a.T
    safe = np.where(n > 0, n, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(n > 0, shift[:, None] + sum_a / safe, 0.0)
        mean_b = np.where(n > 0, shift[None, :] + sum_b / safe, 0.0)
        c = np.where(n > 0, products - sum_a * sum_b / safe, 0.0)
        m2a = np.where(n > 0, squares_a - sum_a * sum_a / safe, 0.0)
        m2b = np.where(n > 0, squares_b - sum_b * sum_b / safe, 0.0)
    return n, mean_a, mean_b, c, m2a, m2b, squares_a, squares_b


def comoment_combine(parts: list[CoMoments]) -> CoMoments:
    n, mean_a, mean_b, c, m2a, m2b, scale_a, scale_b = parts[0]
    for nb, mean_ab, mean_bb, cb, m2ab, m2bb, scale_ab, scale_bb in parts[1:]:
        total = n + nb
        safe = np.where(total > 0, total, 1.0)
        da, db = mean_ab - mean_a, mean_bb - mean_b
        weight = n * nb / safe
        c = c + cb + da * db * weight
        m2a = m2a + m2ab + da * da * weight
        m2b = m2b + m2bb + db * db * weight
        scale_a = scale_a + scale_ab + da * da * weight
        scale_b = scale_b + scale_bb + db * db * weight
        mean_a = mean_a + da * nb / safe
        mean_b = mean_b + db * nb / safe
        n = total
    return n, mean_a, mean_b, c, m2a, m2b, scale_a, scale_b


def comoment_aggregate(parts: list[CoMoments], corr: bool, min_periods: int, ddof: int, columns: Any) -> Any:
    """The ``cov`` or ``corr`` matrix (a frame over ``columns``), or one value when ``columns`` is ``None``."""
    n, _, _, c, m2a, m2b, scale_a, scale_b = comoment_combine(parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        if corr:
            # Rounding can push |r| a hair past 1; pandas clips too.
            values = np.clip(c / np.sqrt(m2a * m2b), -1.0, 1.0)
            # M2 within rounding error of zero: the column is constant on these rows.
            constant = (m2a <= 1e-12 * scale_a) | (m2b <= 1e-12 * scale_b)
            values = np.where((n < max(min_periods, 2)) | constant, np.nan, values)
        else:
            denom = n - ddof
            values = np.where((n < max(min_periods, 1)) | (denom <= 0), np.nan, c / np.where(denom > 0, denom, 1))
    if columns is None:
        return np.float64(values[0, 1])
    return pd.DataFrame(values, index=columns, columns=columns)
