from __future__ import annotations

import re
import shutil
import sys
import types
from operator import add

import pytest

pytest.importorskip("graphviz", reason="shoal.dot needs the graphviz Python package (shoal[diagnostics])")

import shoal  # noqa: E402
from shoal.dot import dot_graph, to_graphviz  # noqa: E402
from shoal.graph import Alias, DataNode, Ref, Task, convert_legacy_graph  # noqa: E402

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz 'dot' program is not installed (apt-get install graphviz); only .dot output is testable",
)


def inc(x):
    return x + 1


def example():
    return convert_legacy_graph({
        "a": 1,
        ("x", 0): (inc, "a"),
        ("x", 1): (inc, "a"),
        "total-8f1e2a3b4c5d6e7f": (add, ("x", 0), ("x", 1)),
        "alias": "total-8f1e2a3b4c5d6e7f",
    })


def expected_edges(graph):
    """dependency -> task for each dependency, task -> its box, and target -> alias."""
    count = 0
    for node in graph.values():
        if isinstance(node, Task):
            count += len(node.dependencies) + 1
        elif isinstance(node, Alias):
            count += 1
    return count


def labels(source, shape):
    return sorted(re.findall(rf"\[label=(\S+?) .*shape={shape}", source))


def test_dot_file_holds_every_node_and_edge(tmp_path):
    graph = example()
    path = tmp_path / "example.dot"
    digraph = dot_graph(graph, filename=str(path))
    text = path.read_text()
    assert text == digraph.source
    assert text.count(" -> ") == expected_edges(graph) == 8
    assert labels(text, "circle") == ["add", "inc", "inc"]
    assert labels(text, "box") == ["a", "alias", "total", "x", "x"]
    assert "rankdir=BT" in text


def test_dot_output_needs_no_dot_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' to be found
    dot_graph(example(), filename=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(RuntimeError, match=r"Install Graphviz.*g\.dot', which works without it"):
        dot_graph(example(), filename=tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


@needs_dot
@pytest.mark.parametrize(("ext", "magic"), [("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF"),
                                            ("jpeg", b"\xff\xd8")])
def test_images_are_written(tmp_path, ext, magic):
    path = tmp_path / f"graph.{ext}"
    dot_graph(example(), filename=str(path))
    data = path.read_bytes()
    assert magic in data[:400]


def test_format_applies_when_filename_has_no_extension(tmp_path):
    dot_graph(example(), filename=tmp_path / "plain", format="dot")
    assert (tmp_path / "plain.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="disagree"):
        dot_graph(example(), filename=tmp_path / "x.svg", format="png")
    with pytest.raises(ValueError, match="cannot write format 'bogus'"):
        dot_graph(example(), filename=tmp_path / "x", format="bogus")


@needs_dot
def test_default_format_is_png(tmp_path):
    dot_graph(example(), filename=str(tmp_path / "mydask"))
    assert (tmp_path / "mydask.png").read_bytes().startswith(b"\x89PNG")
    dot_graph(example(), filename=str(tmp_path / "pic.jpg"), format="jpeg")
    assert (tmp_path / "pic.jpg").stat().st_size > 0


def test_filename_none_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    digraph = dot_graph(example(), filename=None)
    assert digraph.source.count(" -> ") == 8
    assert list(tmp_path.iterdir()) == []


def test_missing_graphviz_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install graphviz \(or shoal\[diagnostics\]\).*apt-get install"):
        to_graphviz(example())
    with pytest.raises(ImportError, match="graphviz Python package"):
        shoal.visualize(example(), filename=None)


def test_collapse_outputs_drops_output_boxes():
    # An alias has no circle to collapse into: its box stays.
    source = to_graphviz(example(), collapse_outputs=True).source
    assert labels(source, "box") == ["a", "alias", "total", "x", "x"]
    plain = to_graphviz({"x": 1, "y": (inc, "x")}, collapse_outputs=True).source
    assert labels(plain, "box") == ["x"]
    assert plain.count(" -> ") == 1


def test_verbose_labels_show_whole_keys():
    source = to_graphviz(example(), verbose=True).source
    assert 'label="total-8f1e2a3b4c5d6e7f"' in source
    assert "label=\"('x', 0)\"" in source


def test_attributes_override_defaults():
    digraph = to_graphviz(
        example(),
        data_attributes={"a": {"label": "input", "color": "red"}},
        function_attributes={("x", 0): {"shape": "doublecircle"}},
        graph_attr={"size": "4,4"},
        node_attr={"fontsize": 10},
        edge_attr={"arrowhead": "open"},
        rankdir="LR",
        ranksep=2,
    )
    source = digraph.source
    assert "label=input" in source and "color=red" in source
    assert "shape=doublecircle" in source
    assert "rankdir=LR" in source and 'size="4,4"' in source and "ranksep=2" in source
    assert "fontsize=10" in source and "arrowhead=open" in source


def test_node_ids_are_safe_and_stable():
    keys = ['quote"d', "sp ace", "ünï", ("tuple", 1, "x y"), 7, "<html>", "back\\slash"]
    graph = {key: DataNode(key, i) for i, key in enumerate(keys)}
    graph["out"] = Task("out", lambda *xs: sum(xs), *[Ref(k) for k in keys])
    first = to_graphviz(graph).source
    assert first == to_graphviz(graph).source
    ids = [i for i in re.findall(r"^\t(\S+) \[", first, flags=re.MULTILINE) if i not in ("graph", "node")]
    assert len(ids) == len(keys) + 2
    assert all(re.fullmatch(r"[df][0-9a-f]{16}", i) for i in ids)
    assert "label=lambda" in first


@needs_dot
def test_awkward_labels_render(tmp_path):
    keys = ['quote"d', "<html>", "back\\slash", "x\\l"]
    graph = {key: DataNode(key, 1) for key in keys}
    graph["out"] = Task("out", lambda *xs: xs, *[Ref(k) for k in keys])
    dot_graph(graph, filename=tmp_path / "awkward.svg", verbose=True)
    assert "&lt;html&gt;" in (tmp_path / "awkward.svg").read_text()


def test_color_by_order():
    source = to_graphviz(example(), color="order").source
    shades = re.findall(r'fillcolor="([0-9. ]+)"', source)
    assert len(shades) == source.count("[label=")
    assert "0.660 0.500 0.950" in shades  # the first task to run is blue
    with pytest.raises(ValueError, match="color='order'"):
        to_graphviz(example(), color="rainbow")


def test_visualize_draws_dict_graphs(tmp_path):
    legacy = {"a": 1, "b": (inc, "a")}
    digraph = shoal.visualize(legacy, filename=str(tmp_path / "v.dot"))
    assert (tmp_path / "v.dot").read_text() == digraph.source
    assert digraph.source.count(" -> ") == 2


@pytest.fixture
def fake_ipython(monkeypatch):
    """A running IPython whose display classes record the file they show."""
    class Shown:
        def __init__(self, filename):
            self.filename = filename

    class Image(Shown):
        pass

    class SVG(Shown):
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: object()
    display = types.ModuleType("IPython.display")
    display.Image, display.SVG = Image, SVG
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return display


@needs_dot
def test_ipython_gets_an_image(tmp_path, fake_ipython):
    shown = dot_graph(example(), filename=str(tmp_path / "g.png"))
    assert isinstance(shown, fake_ipython.Image) and shown.filename.endswith("g.png")
    shown = dot_graph(example(), filename=str(tmp_path / "g.svg"))
    assert isinstance(shown, fake_ipython.SVG)


def test_ipython_not_running_gets_the_digraph(tmp_path, fake_ipython, monkeypatch):
    monkeypatch.setattr(sys.modules["IPython"], "get_ipython", lambda: None)
    assert hasattr(dot_graph(example(), filename=tmp_path / "g.dot"), "source")


def test_seed_example_writes_dot(tmp_path):
    z = shoal.delayed(add)(shoal.delayed(inc)(1), shoal.delayed(inc)(2))
    digraph = z.visualize(filename=str(tmp_path / "z.dot"))
    text = (tmp_path / "z.dot").read_text()
    assert text == digraph.source
    graph = dict(z.__dask_graph__())
    assert text.count(" -> ") == expected_edges(graph) == 5
    assert labels(text, "circle") == ["add", "inc", "inc"]
    assert labels(text, "box") == ["add", "inc", "inc"]
    assert z.compute(scheduler="sync") == 5


def test_visualize_draws_several_delayed_values(tmp_path):
    x = shoal.delayed(inc)(1)
    y = shoal.delayed(add)(x, 10)
    w = shoal.delayed(sum)([x, y])
    digraph = shoal.visualize(y, w, filename=None)
    assert sorted(re.findall(r"\[label=(\w+) shape=circle", digraph.source)) == ["add", "inc", "sum"]
    assert digraph.source.count(" -> ") == expected_edges(dict(w.__dask_graph__()))


@needs_dot
def test_seed_example_renders_png_and_svg(tmp_path):
    z = shoal.delayed(add)(shoal.delayed(inc)(1), shoal.delayed(inc)(2))
    z.visualize(filename=str(tmp_path / "z.png"))
    z.visualize(filename=str(tmp_path / "z"), format="svg")
    assert (tmp_path / "z.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "z.svg").read_text()
