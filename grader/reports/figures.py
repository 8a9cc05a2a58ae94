"""A matplotlib figure as a self-contained PNG data URI, for pages that ship as one file."""

from __future__ import annotations

import base64
import io
from typing import Any


def png_data_uri(fig: Any) -> str:
    """``fig`` rendered without a display (Agg) and without a timestamp, as a data URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
