import numpy as np
import pandas as pd

from viz import states as st

IDS = np.array(["A", "B", "C"])


def ev(rows):
    return pd.DataFrame(rows, columns=["realization", "time_h", "asset_id", "event", "crew_id"])


def test_state_sequence_with_restored_window():
    e = ev([(0, 1.0, "A", "damaged", ""), (0, 3.0, "A", "crew_dispatched", "c1"),
            (0, 4.0, "A", "repair_started", "c1"), (0, 6.0, "A", "restored", "c1"),
            (0, 2.0, "B", "outage", ""), (0, 5.0, "B", "restored", ""),
            (0, 2.5, "C", "cascade_failed", "")])
    s = st.component_states(e, IDS, [0, 1, 3.5, 4, 5.9, 6, 6.5, 8.1], restored_show_h=2.0)
    assert s[:, 0].tolist() == [st.WORKING, st.FAILED, st.FAILED, st.UNDER_REPAIR,
                                st.UNDER_REPAIR, st.RESTORED, st.RESTORED, st.WORKING]
    assert s[:, 1].tolist() == [0, 0, st.OUTAGE, st.OUTAGE, st.RESTORED, st.RESTORED,
                                st.RESTORED, st.WORKING]
    assert s[:, 2].tolist() == [0, 0, st.CASCADE_FAILED, *[st.CASCADE_FAILED] * 5]


def test_damage_during_repair_keeps_repair_and_other_realizations_ignored():
    e = ev([(0, 1.0, "A", "damaged", ""), (0, 2.0, "A", "repair_started", "c1"),
            (0, 3.0, "A", "damaged", ""), (1, 0.5, "B", "damaged", "")])
    s = st.component_states(e, IDS, [2.5, 3.5], realization=0)
    assert s[:, 0].tolist() == [st.UNDER_REPAIR, st.UNDER_REPAIR]
    assert s[:, 1].tolist() == [0, 0]


def test_restored_window_cut_by_a_new_failure():
    e = ev([(0, 1.0, "A", "damaged", ""), (0, 2.0, "A", "restored", ""),
            (0, 3.0, "A", "outage", "")])
    s = st.component_states(e, IDS, [2.5, 3.0, 20.0], restored_show_h=6.0)
    assert s[:, 0].tolist() == [st.RESTORED, st.OUTAGE, st.OUTAGE]


def test_states_at_unsorted_times_matches_sorted():
    e = ev([(0, 1.0, "A", "damaged", ""), (0, 5.0, "A", "restored", "")])
    tr = st.state_transitions(st.realization_events(e, 0), IDS, restored_show_h=1.0)
    a = st.states_at(tr, 3, [7, 0, 5.5, 2])
    b = st.states_at(tr, 3, [0, 2, 5.5, 7])
    assert a[:, 0].tolist() == [0, 0, st.RESTORED, st.FAILED]
    assert sorted(a[:, 0].tolist()) == sorted(b[:, 0].tolist())


def test_crew_moves_linearly_between_jobs():
    access = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 200.0]])
    e = ev([(0, 1.0, "A", "crew_dispatched", "c1"), (0, 2.0, "A", "repair_started", "c1"),
            (0, 3.0, "A", "restored", "c1"), (0, 4.0, "C", "crew_dispatched", "c1"),
            (0, 6.0, "C", "repair_started", "c1"), (0, 7.0, "C", "restored", "c1")])
    names, xy, act = st.crew_tracks(e, IDS, access, [0.0, 1.5, 3.5, 5.0, 6.5, 9.0])
    assert names == ["c1"]
    # before the first dispatch: not on the map (depot unknown); then at the first job
    assert np.isnan(xy[0, 0]).all() and np.allclose(xy[1, 0], [0, 0])
    assert np.allclose(xy[2, 0], [0, 0])  # repaired A, waiting
    assert np.allclose(xy[3, 0], [50, 100])  # half-way from A to C
    assert np.allclose(xy[4, 0], [100, 200]) and np.allclose(xy[5, 0], [100, 200])
    assert act[:, 0].tolist() == [st.CREW_IDLE, st.CREW_TRAVELLING, st.CREW_IDLE,
                                  st.CREW_TRAVELLING, st.CREW_REPAIRING, st.CREW_IDLE]


def test_clock_shows_scenario_and_wall_clock_time():
    from viz.scene import clock_text

    assert clock_text(25.5) == "25.5 h after the start (day 2, 01:30)"
    assert clock_text(6.0, "2023-09-01T00:00:00Z") == "Fri 01 Sep 06:00 UTC"
    # local time with the zone from the run's metadata (UTC+8, no DST)
    assert clock_text(6.0, "2023-09-01T00:00:00Z", "Asia/Shanghai") == \
        "Fri 01 Sep 14:00 CST (Asia/Shanghai)"
