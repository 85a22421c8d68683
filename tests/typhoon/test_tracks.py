"""Best-track readers, validation, selection, interpolation and what-if transforms."""

from __future__ import annotations

import numpy as np
import pytest

import hazards.typhoon as ty
from common.errors import HazardError
from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants

KT = 0.514444


def test_jma_and_ibtracs_agree_on_hato_and_mangkhut(tracks_dir):
    """The WMO IBTrACS record of a WP storm is RSMC Tokyo's: same times and winds.

    IBTrACS LAT/LON are its merged positions, not Tokyo's alone: they stay within
    ~0.7 deg of the JMA fixes (measured for Hato: median 0.22, max 0.64 deg)."""
    for storm in ("HATO:2017", "MANGKHUT:2018"):
        jma = ty.load_track(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt", storm)
        ib = ty.load_track(tracks_dir / "ibtracs_wmo_selected_storms.csv", storm)
        common, ia, ib_i = np.intersect1d(jma.times, ib.times, return_indices=True)
        assert len(common) >= len(jma) - 1 and len(common) == len(ib)
        d_deg = np.hypot(jma.lat[ia] - ib.lat[ib_i], jma.lon[ia] - ib.lon[ib_i])
        assert np.median(d_deg) <= 0.3 and d_deg.max() <= 0.75
        np.testing.assert_allclose(jma.vmax_mps[ia], ib.vmax_mps[ib_i], atol=0.05)
        np.testing.assert_allclose(jma.pc_hpa[ia], ib.pc_hpa[ib_i], atol=0.01)


def test_jma_units_and_fields(tracks_dir):
    hato = ty.load_track(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt", "1713")
    assert (hato.name, hato.season, hato.basin, len(hato)) == ("HATO", 2017, "WP", 23)
    # 17082300 002 5 216 1144  965     075: 75 kt 10-min -> 1-min by / 0.93
    k = int(np.nonzero(hato.times == np.datetime64("2017-08-23T00:00"))[0][0])
    assert (hato.lat[k], hato.lon[k], hato.pc_hpa[k]) == (21.6, 114.4, 965.0)
    assert hato.vmax_mps[k] == pytest.approx(75 * KT / 0.93, rel=1e-6)
    assert hato.radii_m["r30_long"][k] == pytest.approx(180 * 1852.0)


def test_saola_2023_from_ibtracs_usa_and_wmo(tracks_dir):
    usa = ty.load_track(tracks_dir / "ibtracs_usa_jtwc_selected_storms.csv", "SAOLA:2023")
    wmo = ty.load_track(tracks_dir / "ibtracs_wmo_selected_storms.csv", "2023234N18128")
    assert usa.id == wmo.id == "2023234N18128" and usa.basin == "WP"
    common, ia, ib = np.intersect1d(usa.times, wmo.times, return_indices=True)
    assert len(common) >= 0.8 * min(len(usa), len(wmo))
    assert np.hypot(usa.lat[ia] - wmo.lat[ib], usa.lon[ia] - wmo.lon[ib]).max() < 1.0
    # JTWC peak 140 kt (1-min); Tokyo's 10-min peak converted to 1-min is lower
    assert usa.vmax_mps.max() == pytest.approx(140 * KT, rel=1e-6)
    assert wmo.vmax_mps.max() < usa.vmax_mps.max()


def test_hurdat2_ike_with_radii_and_landfall(tracks_dir):
    ike = ty.load_track(tracks_dir / "hurdat2_atlantic_2004_2018.txt", "IKE:2008")
    assert ike.id == "AL092008" and len(ike) == 62 and ike.basin == "NA"
    assert ike.vmax_mps.max() == pytest.approx(125 * KT, rel=1e-6)
    assert ike.pc_hpa.min() == 935.0
    assert set(ike.radii_m) == {f"r{k}_{q}" for k in (34, 50, 64)
                                for q in ("ne", "se", "sw", "nw")}
    assert np.nanmax(ike.radii_m["r34_ne"]) == pytest.approx(240 * 1852.0)
    assert ike.landfall is not None and ike.landfall.sum() >= 1
    # landfall at Galveston, 2008-09-13 07 UTC
    lf = ike.times[ike.landfall]
    assert np.datetime64("2008-09-13T07:00") in lf


def test_hurdat2_lacks_katrina_and_says_so(tracks_dir):
    with pytest.raises(HazardError, match="KATRINA:2005' not found"):
        ty.load_track(tracks_dir / "hurdat2_atlantic_2004_2018.txt", "KATRINA:2005")


def test_unknown_storm_lists_close_names(tracks_dir):
    with pytest.raises(HazardError) as ei:
        ty.load_track(tracks_dir / "ibtracs_usa_jtwc_selected_storms.csv", "SAOLO:2023")
    msg = str(ei.value)
    assert "SAOLA:2023" in msg and "ibtracs_usa_jtwc_selected_storms.csv" in msg


def test_ambiguous_name_asks_for_season(tracks_dir):
    with pytest.raises(HazardError, match="ambiguous"):
        ty.load_track(tracks_dir / "hurdat2_atlantic_2004_2018.txt", "MARIA")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_plain_csv_wind_averaging_conversion(tmp_path):
    body = ("time,lat,lon,wind_mps,pressure_hpa,rmw_km\n"
            "2020-09-01T00:00,20.0,130.0,40.0,960,30\n"
            "2020-09-01T06:00,20.5,129.5,45.0,955,28\n")
    p = _write(tmp_path, "t.csv", body)
    one = ty.read_csv_track(p, wind_averaging="1min")
    ten = ty.read_csv_track(p, wind_averaging="10min")
    np.testing.assert_allclose(one.vmax_mps, [40.0, 45.0])
    np.testing.assert_allclose(ten.vmax_mps, np.array([40.0, 45.0]) / 0.93)
    assert load_constants().one_to_ten_minute == 0.93
    np.testing.assert_allclose(one.rmw_m, [30e3, 28e3])
    with pytest.raises(HazardError, match="averaging"):
        ty.read_csv_track(p, wind_averaging=None)
    with pytest.raises(HazardError, match="10min"):
        ty.read_tracks(p, fmt="csv", wind_averaging="10min") and ty.read_tracks(
            _write(tmp_path, "h.txt", "AL012020, X, 2,\n"
                   "20200901, 0000,  , TS, 20.0N, 60.0W,  40, 1000,\n"
                   "20200901, 0600,  , TS, 20.5N, 61.0W,  45,  995,\n"),
            wind_averaging="10min")


def test_broken_rows_name_file_and_line(tmp_path):
    good = "20200901, 0000,  , TS, 20.0N, 60.0W,  40, 1000,\n"
    p = _write(tmp_path, "bad.txt", "AL012020, TEST, 2,\n" + good
               + "20200901, 0600,  , TS, 2x.5N, 61.0W,  45,  995,\n")
    with pytest.raises(HazardError, match=r"bad\.txt:3: coordinate"):
        ty.read_tracks(p)
    p = _write(tmp_path, "order.txt", "AL012020, TEST, 2,\n" + good + good)
    with pytest.raises(HazardError, match=r"order\.txt:3: time .* strictly increase"):
        ty.read_tracks(p)
    p = _write(tmp_path, "lat.csv", "time,lat,lon,wind_kt,pressure_hpa\n"
               "2020-09-01T00:00,20,130,50,980\n2020-09-01T06:00,95,130,50,980\n")
    with pytest.raises(HazardError, match=r"lat\.csv:3: latitude 95"):
        ty.read_tracks(p, wind_averaging="1min")
    p = _write(tmp_path, "ib.csv", "track_id,season,basin,time,lat,lon,wind,slp\n"
               "X1,2020,WP,2020-09-01 00:00:00,20,130,50,980\n"
               "X1,2020,WP,2020-09-01 06:00:00,20,13O,50,980\n")
    with pytest.raises(HazardError, match=r"ib\.csv:3: lon '13O' is not a number"):
        ty.read_tracks(p, wind_averaging="1min")


def test_missing_pressure_and_wind_are_estimated(tmp_path):
    p = _write(tmp_path, "m.csv", "time,lat,lon,wind_kt,pressure_hpa\n"
               "2020-09-01T00:00,20,130,,\n"          # leading row without both: dropped
               "2020-09-01T06:00,20,130,60,\n"        # pressure from wind
               "2020-09-01T12:00,21,129,,950\n"       # wind from pressure
               "2020-09-01T18:00,22,128,,\n"          # interior: interpolated
               "2020-09-02T00:00,23,127,80,940\n")
    t = ty.read_csv_track(p, wind_averaging="1min")
    assert len(t) == 4 and not np.isnan(t.pc_hpa).any() and not np.isnan(t.vmax_mps).any()
    wp = load_constants().wp_climada["pressure_from_wind"]
    assert t.pc_hpa[0] == pytest.approx(wp["const"] + wp["lat"] * 20 + wp["lon"] * 130
                                        + wp["wind_kt"] * 60)
    assert t.pc_hpa[2] == pytest.approx(0.5 * (950 + 940))
    assert any("estimated" in n for n in t.notes) and any("dropped" in n for n in t.notes)


def test_interpolation_across_the_antimeridian(make_track):
    tr = make_track(lat0=10.0, lon0=179.5, speed_mps=10.0, bearing_deg=90.0, hours=6)
    assert tr.lon[0] > 179 and tr.lon[-1] < 0  # crosses
    fine = tr.resample(10)
    step = geo.haversine_m(fine.lat[:-1], fine.lon[:-1], fine.lat[1:], fine.lon[1:])
    np.testing.assert_allclose(step, 10.0 * 600, rtol=1e-3)  # no jump through 0 deg


def test_shift_moves_every_point_by_the_distance(make_track):
    tr = make_track(speed_mps=6.0, bearing_deg=300.0)
    moved = ty.shift(tr, east_km=30.0, north_km=-40.0)
    d = geo.haversine_m(tr.lat, tr.lon, moved.lat, moved.lon)
    np.testing.assert_allclose(d, 50e3, rtol=1e-9)
    assert np.all(moved.lat < tr.lat) and np.all(geo.wrap_lon(moved.lon - tr.lon) > 0)


def test_shift_to_puts_closest_approach_on_the_city(tracks_dir):
    saola = ty.load_track(tracks_dir / "ibtracs_usa_jtwc_selected_storms.csv", "SAOLA:2023")
    city = (22.3, 113.6)
    t_ca, d0 = saola.closest_approach(*city)
    moved = ty.shift_to(saola, *city)
    lat, lon = moved.position_at(t_ca)
    assert geo.haversine_m(lat, lon, *city) < 1.0
    t_new, d1 = moved.closest_approach(*city)
    assert d1 < 100.0 and d0 > 5e3
    # rigid motion: spacing of consecutive fixes unchanged
    s0 = geo.haversine_m(saola.lat[:-1], saola.lon[:-1], saola.lat[1:], saola.lon[1:])
    s1 = geo.haversine_m(moved.lat[:-1], moved.lon[:-1], moved.lat[1:], moved.lon[1:])
    np.testing.assert_allclose(s1, s0, rtol=1e-9, atol=1e-6)


def test_rotate_keeps_distance_to_pivot_and_turns_bearing(make_track):
    tr = make_track(speed_mps=5.0, bearing_deg=0.0)
    pivot = (float(tr.lat[0]), float(tr.lon[0]))
    rot = ty.rotate(tr, 90.0, about=pivot)
    np.testing.assert_allclose(geo.haversine_m(*pivot, rot.lat, rot.lon),
                               geo.haversine_m(*pivot, tr.lat, tr.lon), atol=1e-3)
    b = geo.bearing_deg(*pivot, rot.lat[1:], rot.lon[1:])
    np.testing.assert_allclose(b, 90.0, atol=1e-6)


def test_scale_intensity_and_change_speed(make_track):
    tr = make_track(speed_mps=5.0, pc_hpa=950.0, penv_hpa=1010.0, vmax_mps=50.0)
    s = ty.scale_intensity(tr, 1.2)
    np.testing.assert_allclose(s.vmax_mps, 60.0)
    np.testing.assert_allclose(s.penv_hpa - s.pc_hpa, 60.0 * 1.44)
    pivot = tr.times[12]
    fast = ty.change_speed(tr, 2.0, pivot=pivot)
    np.testing.assert_array_equal(fast.lat, tr.lat)
    assert fast.times[12] == pivot
    assert (fast.times[-1] - fast.times[0]) == (tr.times[-1] - tr.times[0]) / 2
    with pytest.raises(HazardError):
        ty.change_speed(tr, 0.0)


def test_format_detection_and_unknown_format(tmp_path, tracks_dir):
    assert ty.detect_format(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt") == "jma"
    assert ty.detect_format(tracks_dir / "hurdat2_atlantic_2004_2018.txt") == "hurdat2"
    assert ty.detect_format(tracks_dir / "ibtracs_wmo_selected_storms.csv") == "ibtracs"
    with pytest.raises(HazardError, match="unknown track format"):
        ty.read_tracks(_write(tmp_path, "x.txt", "hello world\n"))


def test_ibtracs_documented_layout_uses_agency_rmw_and_poci(tmp_path):
    head = ("SID,SEASON,NUMBER,BASIN,SUBBASIN,NAME,ISO_TIME,NATURE,LAT,LON,WMO_WIND,WMO_PRES,"
            "WMO_AGENCY,USA_WIND,USA_PRES,USA_RMW,USA_POCI,BOM_RMW\n"
            " ,Year, , , , , , ,degrees_north,degrees_east,kts,mb, ,kts,mb,nmile,mb,nmile\n")
    rows = ("2020245N10130,2020,40,WP,MM,TEST,2020-09-01 00:00:00,TS,10.0,130.0,50,985,tokyo,"
            "60,980,25,1006, \n"
            "2020245N10130,2020,40,WP,MM,TEST,2020-09-01 06:00:00,TS,10.5,129.0,55,980,tokyo,"
            " , , ,1007,30\n")
    p = _write(tmp_path, "ibt.csv", head + rows)
    t = ty.load_track(p, "TEST:2020")
    assert t.vmax_mps[0] == pytest.approx(60 * KT)            # USA 1-min
    assert t.vmax_mps[1] == pytest.approx(55 * KT / 0.93)     # WMO tokyo 10-min fallback
    np.testing.assert_allclose(t.rmw_m, [25 * 1852.0, 30 * 1852.0])
    np.testing.assert_allclose(t.penv_hpa, [1006.0, 1007.0])
    t2 = ty.load_track(p, "TEST:2020", wind_source="wmo")
    assert t2.vmax_mps[0] == pytest.approx(50 * KT / 0.93)
    with pytest.raises(HazardError, match=r"ibt2\.csv:3: lat"):
        ty.read_tracks(_write(tmp_path, "ibt2.csv", head + rows.replace("10.0,130", "1O,130")))


def test_ibtracs_documented_layout_reads_usa_wind_radii(tmp_path):
    quads = [f"USA_R{t}_{q}" for t in (34, 50, 64) for q in ("NE", "SE", "SW", "NW")]
    head = ("SID,SEASON,NAME,BASIN,ISO_TIME,LAT,LON,USA_WIND,USA_PRES," + ",".join(quads)
            + "\n , , , , ,degrees_north,degrees_east,kts,mb," + ",".join(["nmile"] * 12) + "\n")
    r = "120,100,80,110,60,50,40,55,,,,"  # no 64-kt winds reported
    rows = (f"2020245N10130,2020,TEST,WP,2020-09-01 00:00:00,10.0,130.0,60,980,{r}\n"
            f"2020245N10130,2020,TEST,WP,2020-09-01 06:00:00,10.5,129.0,60,980,{r}\n")
    t = ty.load_track(_write(tmp_path, "ibt.csv", head + rows), "TEST:2020")
    np.testing.assert_allclose(t.radii_m["r34_ne"], 120 * 1852.0)
    np.testing.assert_allclose(t.radii_m["r50_nw"], 55 * 1852.0)
    assert np.isnan(t.radii_m["r64_se"]).all()
    from hazards.typhoon.wind_radii import radius_series

    assert [s.threshold_kt for s in radius_series(t)] == [50, 34]  # R64 absent
