"""Random arrays, drawn block by block: ``shoal.array.random``; mirrors ``dask.array.random``.

Two interfaces, as in NumPy:

- :func:`default_rng` returns a :class:`Generator` (``integers``, ``random``,
  ``normal``, ``choice``, ...), the modern interface;
- :class:`RandomState` keeps NumPy's legacy names (``randint``,
  ``random_sample``, ...); the module-level functions (``random``,
  ``normal``, ``randint``, ...) draw from one global ``RandomState`` that
  :func:`seed` resets.

Seeding model
    Each object holds a ``numpy.random.SeedSequence``. Every call spawns one
    child sequence from it, so successive calls differ and the same seed
    gives the same sequence of calls. Block ``b`` (its position in C order)
    of that call draws from a bit generator seeded with the child's
    sequence extended by ``b``: the same as spawning children in order,
    but each task can build its own without talking to the others. Results
    therefore depend on the seed and the chunks, never on the scheduler, the
    number of workers or the order in which blocks run. The task holds only
    the entropy and spawn key (a few integers), never a generator object.

Blocks draw from ``SFC64`` for :class:`RandomState` (fast: random numbers are
often the first step of a benchmark) and from ``PCG64``, or the bit generator
given to :class:`Generator`, otherwise. As in Dask, the values differ from
NumPy's for the same seed, since NumPy draws the whole array from one stream.

Where the code lives: :mod:`shoal.array._random_sampler` (seeding, the block
tasks, building graphs), :mod:`shoal.array._random_generator`
(:class:`Generator`, :func:`default_rng`), :mod:`shoal.array._random_state`
(:class:`RandomState`, the global state) and :mod:`shoal.array._random_table`
(the distributions both offer).
"""

from __future__ import annotations

from shoal.array._random_generator import Generator, default_rng
from shoal.array._random_state import RandomState, module_function, seed
from shoal.array._random_table import DISTRIBUTIONS

__all__ = [
    "Generator",
    "RandomState",
    "default_rng",
    "seed",
]

_DISTRIBUTIONS = DISTRIBUTIONS  # the table's old name, kept importable from here

_MODULE_FUNCTIONS = sorted({*DISTRIBUTIONS, "random_sample", "random", "randint", "random_integers", "choice",
                            "permutation", "multinomial"})
for _name in _MODULE_FUNCTIONS:
    globals()[_name] = module_function(_name)
del _name
__all__ = sorted({*__all__, *_MODULE_FUNCTIONS})
