"""Array.to_dask_dataframe (against pandas) and Array.to_svg (well-formed SVG with one line per block edge)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import shoal.array as sa

pd = pytest.importorskip("pandas")


# -- to_dask_dataframe ------------------------------------------------------------------------------------------------
def test_to_dask_dataframe_frame_and_series():
    values = np.arange(12.0).reshape(6, 2)
    x = sa.from_array(values, chunks=(4, 2))
    df = x.to_dask_dataframe(columns=["a", "b"])
    assert df.npartitions == 2
    pd.testing.assert_frame_equal(df.compute(), pd.DataFrame(values, columns=["a", "b"]))
    s = sa.from_array(values[:, 0], chunks=4).to_dask_dataframe(columns="a")
    pd.testing.assert_series_equal(s.compute(), pd.Series(values[:, 0], name="a"))


def test_to_dask_dataframe_with_index():
    import shoal.dataframe as sd

    frame = pd.DataFrame({"v": range(6)}, index=list("abcdef"))
    ddf = sd.from_pandas(frame, npartitions=2)
    sizes = tuple(len(p) for p in (frame.iloc[:3], frame.iloc[3:]))
    x = sa.from_array(np.arange(6) * 10, chunks=(sizes,))
    out = x.to_dask_dataframe(columns="w", index=ddf.index)
    pd.testing.assert_series_equal(out.compute(), pd.Series(np.arange(6) * 10, index=frame.index, name="w"))


# -- to_svg ------------------------------------------------------------------------------------------------------------
def _parse(text):
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    return root


def _lines(root):
    return [e for e in root.iter() if e.tag.endswith("line")]


@pytest.mark.parametrize(("shape", "chunks", "expected_lines"), [
    ((10,), 5, 2 + 3),                       # one row: its 2 edges, and 3 block edges across
    ((10, 20), 5, 3 + 5),                     # 3 row edges, 5 column edges
    ((10, 20, 30), 10, (4 + 2) + (3 + 2) + (4 + 3)),  # top, left and front faces
])
def test_svg_draws_every_block_edge(shape, chunks, expected_lines):
    root = _parse(sa.ones(shape, chunks=chunks).to_svg(size=100))
    assert len(_lines(root)) == expected_lines
    assert {t.text for t in root.iter() if t.tag.endswith("text")} == {str(s) for s in shape}


def test_svg_size_scales_and_many_dims_draw():
    small = _parse(sa.ones((10, 20), chunks=5).to_svg(size=100))
    big = _parse(sa.ones((10, 20), chunks=5).to_svg(size=500))
    assert float(big.get("width")) > 4 * float(small.get("width")) - 100
    for shape in [(2, 3, 4, 5), (2, 3, 4, 5, 6, 7, 8)]:
        root = _parse(sa.ones(shape, chunks=2).to_svg())
        assert len(_lines(root)) > 0
        assert math.isfinite(float(root.get("width")))


def test_svg_many_blocks_draws_the_outline_only():
    root = _parse(sa.ones(1000, chunks=1).to_svg())
    assert len(_lines(root)) == 4


def test_svg_refuses_unknown_chunks_and_0d():
    x = sa.from_array(np.arange(10), chunks=5)
    with pytest.raises(NotImplementedError, match="compute_chunk_sizes"):
        x[x > 3].to_svg()
    with pytest.raises(NotImplementedError, match="0-d"):
        sa.ones(()).to_svg()
    with pytest.raises(ValueError, match="size must be a positive"):
        x.to_svg(size=0)


def test_repr_html_shows_the_block_grid_beside_the_table() -> None:
    x = sa.ones((1000, 2000), chunks=(250, 500))
    html = x._repr_html_()
    assert "<th>Chunk</th>" in html and "<svg" in html
    assert html.count("<line") == x.to_svg(size=120).count("<line") == 5 + 5  # 4 blocks each way: 5 edges
    # No picture where the block sizes are unknown or there are no axes: the table alone, as before.
    assert "<svg" not in x[x > 0]._repr_html_()
    assert "<svg" not in sa.ones(())._repr_html_()
