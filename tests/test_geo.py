"""Datum transforms against published point pairs, and distance properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wocheck.metrics.geo import (
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_km,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)

# (WGS-84 lat, lon) -> (GCJ-02 lat, lon): the test points of the public eviltransform library
# (Shanghai, Shenzhen, Beijing) and of coordtransform (Beijing, 116.404 / 39.915).
WGS_GCJ = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]
# coordtransform: gcj02tobd09(116.404, 39.915) and bd09togcj02(116.404, 39.915)
GCJ_BD = ((39.915, 116.404), (39.92133699351021, 116.41036949371029))
BD_GCJ = ((39.915, 116.404), (39.90865673957631, 116.39762729119315))


def _m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_km(a, b) * 1000.0


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_published_pairs(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert _m(wgs84_to_gcj02(*wgs), gcj) < 0.01


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_gcj02_to_wgs84_inverts_to_under_a_metre(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert _m(gcj02_to_wgs84(*gcj), wgs) < 0.05


def test_bd09_pairs() -> None:
    assert _m(gcj02_to_bd09(*GCJ_BD[0]), GCJ_BD[1]) < 0.01
    assert _m(bd09_to_gcj02(*BD_GCJ[0]), BD_GCJ[1]) < 0.01


def test_offset_in_china_is_hundreds_of_metres_and_zero_abroad() -> None:
    for wgs, _ in WGS_GCJ:
        assert 100 < _m(wgs, wgs84_to_gcj02(*wgs)) < 700
    paris = (48.8566, 2.3522)
    assert out_of_china(*paris)
    assert wgs84_to_gcj02(*paris) == paris
    assert to_wgs84(*paris, "gcj02") == paris


@given(st.floats(18.2, 53.0), st.floats(74.0, 134.5))
def test_round_trips(lat: float, lon: float) -> None:
    if out_of_china(lat, lon):
        return
    assert _m(gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon)), (lat, lon)) < 0.01
    assert _m(bd09_to_gcj02(*gcj02_to_bd09(lat, lon)), (lat, lon)) < 0.5
    assert _m(to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(lat, lon)), "bd09"), (lat, lon)) < 0.5


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_haversine_metric_properties(a1: float, o1: float, a2: float, o2: float) -> None:
    d = haversine_km((a1, o1), (a2, o2))
    assert 0.0 <= d <= math.pi * 6371.01
    assert d == pytest.approx(haversine_km((a2, o2), (a1, o1)), abs=1e-9)
    assert haversine_km((a1, o1), (a1, o1)) == 0.0


def test_haversine_known_distance() -> None:
    # one degree of latitude ≈ 111.2 km on the mean sphere
    assert haversine_km((31.0, 121.0), (32.0, 121.0)) == pytest.approx(111.19, abs=0.05)
