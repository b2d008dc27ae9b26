"""The HTML report: one self-contained page, the course's numbers beside the measured ones."""
import base64
import html.parser
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cnn_core import experiments, report  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# planar: data, two boundaries, a cost curve; the study's grid; four extra boundaries.
FIGURES_WITHOUT_CAT = 4 + 1 + 4
# cat: a cost curve and the mislabeled images for each of the three models.
FIGURES_WITH_CAT = FIGURES_WITHOUT_CAT + 3 * 2


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class _SummaryTable(html.parser.HTMLParser):
    """The cells of the table with id="summary", one list of texts per body row."""

    def __init__(self):
        super().__init__()
        self.rows, self._inside, self._cell = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "summary") in attrs:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _summary(page):
    parser = _SummaryTable()
    parser.feed(page)
    return [row for row in parser.rows if row]  # the header row has no <td>


def _run(tmp_path, data_dir):
    out = io.StringIO()
    path = report.run_report(tmp_path / "report", data_dir, jobs=1, stream=out)
    with open(path, encoding="utf-8") as file:
        return path, file.read(), out.getvalue()


def test_report_with_the_cat_data_is_one_self_contained_page(tmp_path, data_dir):
    path, page, progress = _run(tmp_path, data_dir)

    assert path == str(tmp_path / "report" / "report.html")
    assert page.startswith("<!DOCTYPE html>")
    assert 'src="http' not in page and "url(" not in page and "<link" not in page
    images = re.findall(r"<img\b[^>]*>", page)
    assert len(images) == FIGURES_WITH_CAT
    for image in images:
        match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', image)
        assert match, image[:80]
        assert base64.b64decode(match.group(1)).startswith(PNG_MAGIC)
    rows = {(row[0], row[1]): row for row in _summary(page)}
    l_layer_test = rows[("cat: L-layer network", "test accuracy (fraction)")]
    assert l_layer_test[2:5] == ["0.8", "0.8", "0.05"]
    assert l_layer_test[6] == "✓"
    assert ("cat: logistic regression", "cost at iteration 1900") in rows
    assert "did not run" not in page
    assert len(progress.strip().splitlines()) == 4  # one line per experiment


def test_report_without_the_cat_data_says_so_first_and_runs_the_rest(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_CORE_DATA_DIR", raising=False)
    _, page, progress = _run(tmp_path, None)

    body = page[page.index("<body>"):]
    notice = re.search(r'<div class="notice"[^>]*>(.*?)</div>', body).group(1)
    assert body.index(notice) < body.index('<table id="summary"')
    assert "train_catvnoncat.h5" in notice and "test_catvnoncat.h5" in notice
    assert "CNN_CORE_DATA_DIR" in notice
    assert "The planar flower" in page and "The hidden-layer size study" in page
    assert len(re.findall(r"<img\b", page)) == FIGURES_WITHOUT_CAT
    rows = {(row[0], row[1]): row for row in _summary(page)}
    assert rows[("cat: L-layer network", "test accuracy (fraction)")][2] == "not run"
    assert rows[("planar", "logistic regression: train accuracy (%)")][2] == "47.0"
    assert "cat: skipped" in progress


def test_missing_folder_is_named_in_the_notice(tmp_path):
    _, notice = report._load_cat(str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in notice


@pytest.mark.parametrize("text, tolerance", [("47", 0.5), ("70.0", 0.05),
                                             ("0.693147", 0.5e-6), ("0.72", 0.005)])
def test_tolerance_is_half_a_unit_of_the_last_printed_digit(text, tolerance):
    assert report.tolerance_of(text) == pytest.approx(tolerance, rel=1e-12)


def test_agreement_holds_just_inside_the_tolerance_and_not_just_outside():
    cost = report.Published("0.693147", report.tolerance_of("0.693147"))
    assert report.agrees(0.6931474, cost)
    assert report.agrees(0.6931466, cost)
    assert not report.agrees(0.6931476, cost)
    assert not report.agrees(0.6931464, cost)
    percent = report.Published("47", report.tolerance_of("47"))
    assert report.agrees(47.5, percent) and not report.agrees(47.51, percent)


def test_a_number_printed_with_percent_d_agrees_when_it_truncates_to_it():
    published = report.PUBLISHED[("planar", "4-unit tanh network: train accuracy (%)")]
    assert report.agrees(90.0, published) and report.agrees(90.75, published)
    assert not report.agrees(91.0, published) and not report.agrees(89.99, published)
    assert report.Row("planar", "logistic regression: train accuracy (%)", 48.0).cells()[6] == "no"


def test_hidden_layer_sweep_figure_titles_a_panel_per_size():
    data = experiments.load_data("planar")
    result = experiments.hidden_layer_sweep(data, hidden_sizes=[1, 2], iterations=50, jobs=1)

    fig = report.plot_hidden_layer_sweep(result)

    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Hidden Layer of size 1", "Hidden Layer of size 2"]
    assert all(ax.collections for ax in fig.axes)  # each panel holds its boundary and points
