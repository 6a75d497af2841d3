"""A fixture for tests that draw: figures are closed around each test, and the
library may never call plt.show() (the notebook does). Import it into a test
module to use it there: ``from figures import no_open_figures``."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_open_figures(monkeypatch):
    def refuse_show(*args, **kwargs):
        raise AssertionError("library code must not call plt.show(); the notebook does")

    monkeypatch.setattr(plt, "show", refuse_show)
    plt.close("all")
    yield
    plt.close("all")
