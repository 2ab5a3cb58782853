"""Property-based: whatever is logged reads back equal under the flattening rule, and log() never
raises (contract §1.6)."""

from __future__ import annotations

import json
import math
import warnings

from conftest import db_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackio

RESERVED = {"project", "run", "timestamp", "step", "time", "metrics"}

scalars = (st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20) | st.booleans() | st.none())
keys = st.text(min_size=1, max_size=12)
values = st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=4)
                      | st.lists(scalars, max_size=4), max_leaves=12)
metric_dicts = st.dictionaries(keys, values, max_size=8)
steps = st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1)


def stored_value(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, list):
        return [stored_value(x) for x in v]
    if isinstance(v, dict):  # a media value (has "_type"): kept whole, values converted
        return {k: stored_value(x) for k, x in v.items()}
    return v


def expected_row(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = prefix + k
        if isinstance(v, dict) and "_type" not in v:
            for kk, vv in expected_row(v, key + "/").items():
                out.pop(kk, None)
                out[kk] = vv
        else:
            final = "__" + key if (key in RESERVED or key.startswith("__")) else key
            out.pop(final, None)
            out[final] = stored_value(v)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(metric_dicts, steps), min_size=1, max_size=6))
def test_logged_rows_read_back_equal(trackio_dir, calls):
    run = trackio.init(project="prop", name="h")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metrics, step in calls:
            trackio.log(metrics, step=step)
    trackio.finish()
    rows = db_rows(trackio_dir, "prop", "SELECT step, metrics FROM metrics WHERE run_id=? ORDER BY id", (run.id,))
    assert len(rows) == len(calls)
    next_step = 0
    for (step, text), (metrics, given_step) in zip(rows, calls):
        want_step = next_step if given_step is None else given_step
        assert step == want_step
        next_step = max(next_step, min(want_step + 1, 2**63 - 1))
        got = json.loads(text, parse_constant=_reject)  # strict: no bare NaN/Infinity tokens
        assert got == expected_row(metrics)


def _reject(token):
    raise AssertionError(f"non-strict JSON token {token}")
