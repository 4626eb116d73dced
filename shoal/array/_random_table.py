"""The distributions both random interfaces offer, and the methods built from that table.

Every distribution whose only special need is broadcasting its parameters
against ``size`` is one row here (name -> parameters with their defaults);
:func:`install_distributions` gives :class:`~shoal.array.random.Generator`
and :class:`~shoal.array.random.RandomState` one method per row, each with
NumPy's signature plus ``chunks=``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["DISTRIBUTIONS", "INTEGER_METHODS", "REQUIRED", "install_distributions"]

#: Distributions that return integers (int64), whatever their parameters.
INTEGER_METHODS = {"binomial", "geometric", "hypergeometric", "logseries", "multinomial", "negative_binomial",
                    "poisson", "zipf"}

REQUIRED = inspect.Parameter.empty

#: name -> the distribution's parameters (name, default), shared by both interfaces.
DISTRIBUTIONS: dict[str, list[tuple[str, Any]]] = {
    "beta": [("a", REQUIRED), ("b", REQUIRED)],
    "binomial": [("n", REQUIRED), ("p", REQUIRED)],
    "chisquare": [("df", REQUIRED)],
    "exponential": [("scale", 1.0)],
    "f": [("dfnum", REQUIRED), ("dfden", REQUIRED)],
    "gamma": [("shape", REQUIRED), ("scale", 1.0)],
    "geometric": [("p", REQUIRED)],
    "gumbel": [("loc", 0.0), ("scale", 1.0)],
    "hypergeometric": [("ngood", REQUIRED), ("nbad", REQUIRED), ("nsample", REQUIRED)],
    "laplace": [("loc", 0.0), ("scale", 1.0)],
    "logistic": [("loc", 0.0), ("scale", 1.0)],
    "lognormal": [("mean", 0.0), ("sigma", 1.0)],
    "logseries": [("p", REQUIRED)],
    "negative_binomial": [("n", REQUIRED), ("p", REQUIRED)],
    "noncentral_chisquare": [("df", REQUIRED), ("nonc", REQUIRED)],
    "noncentral_f": [("dfnum", REQUIRED), ("dfden", REQUIRED), ("nonc", REQUIRED)],
    "normal": [("loc", 0.0), ("scale", 1.0)],
    "pareto": [("a", REQUIRED)],
    "poisson": [("lam", 1.0)],
    "power": [("a", REQUIRED)],
    "rayleigh": [("scale", 1.0)],
    "standard_cauchy": [],
    "standard_exponential": [],
    "standard_gamma": [("shape", REQUIRED)],
    "standard_normal": [],
    "standard_t": [("df", REQUIRED)],
    "triangular": [("left", REQUIRED), ("mode", REQUIRED), ("right", REQUIRED)],
    "uniform": [("low", 0.0), ("high", 1.0)],
    "vonmises": [("mu", REQUIRED), ("kappa", REQUIRED)],
    "wald": [("mean", REQUIRED), ("scale", REQUIRED)],
    "weibull": [("a", REQUIRED)],
    "zipf": [("a", REQUIRED)],
}



def _distribution_method(method: str, params: list[tuple[str, Any]], owner: str) -> Callable[..., Any]:
    names = [n for n, _ in params]

    def sample(self: Any, *args: Any, size: Any = None, chunks: Any = "auto", **kwargs: Any) -> Any:
        values = dict(zip([*names, "size", "chunks"], args, strict=False))
        if len(args) > len(names) + 2:
            raise TypeError(f"{method}() takes at most {len(names) + 2} positional arguments ({len(args)} given).")
        for key in list(kwargs):
            if key in names:
                if key in values:
                    raise TypeError(f"{method}() got multiple values for argument {key!r}.")
                values[key] = kwargs.pop(key)
        size = values.pop("size", size)
        chunks = values.pop("chunks", chunks)
        ordered = []
        for pname, default in params:
            if pname not in values:
                if default is REQUIRED:
                    raise TypeError(f"{method}() missing required argument {pname!r}.")
                values[pname] = default
            ordered.append(values[pname])
        return self._wrap(method, *ordered, size=size, chunks=chunks, **kwargs)

    signature = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    signature += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in params]
    signature += [inspect.Parameter("size", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
                  inspect.Parameter("chunks", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="auto"),
                  inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
    sample.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    sample.__name__ = sample.__qualname__ = method
    args_doc = ", ".join(names) if names else "no parameters"
    sample.__doc__ = (
        f"Samples from the {method.replace('_', ' ')} distribution ({args_doc}); mirrors "
        f"``numpy.random.{owner}.{method}`` with ``chunks=``.\n\n"
        f"Array parameters broadcast against ``size`` and each block gets its part of them.\n"
    )
    return sample


def install_distributions(cls: type, owner: str) -> None:
    """Give ``cls`` a method for every distribution in the table that it does not define itself."""
    for method, params in DISTRIBUTIONS.items():
        if method not in cls.__dict__:
            setattr(cls, method, _distribution_method(method, params, owner))
