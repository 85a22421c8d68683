"""Words of the replays: people counts, captions of key moments, the storm's passage."""

import numpy as np
import pandas as pd

from viz import story


def test_people_line_rounds_large_counts_to_hundreds():
    assert story.people_line(np.array([123_449.0, 9_318.0, 0.0])) == \
        "people without power: 123,400 · water: 9,318 · road access: 0"


def test_key_moments_name_major_assets_in_plain_words():
    ev = pd.DataFrame({"time_h": [1.0, 1.0, 2.0, 9.0], "asset_id": ["S1", "L1", "P1", "S1"],
                       "event": ["damaged", "damaged", "outage", "restored"]})
    ids = np.array(["S1", "L1", "P1"])
    cls = np.array(["substation", "feeder_segment", "pump_station"])
    m = story.key_moments(ev, ids, cls, flooded=True)
    assert [c.text for c in m] == ["substation S1 damaged", "pump station P1 flooded",
                                   "substation S1 back in service"]
    assert story.caption_at(m, 0.5) is None
    assert story.caption_at(m, 3.0)[0].text == "pump station P1 flooded"
    assert story.caption_at(m, 2.0 + story.CAPTION_H + 0.1) is None  # shown for a while


def test_storm_passes_closest_when_the_track_does():
    xy = np.array([[-100e3, 5e3], [100e3, 5e3]])  # west to east, 5 km north of the centre
    m = story.storm_moments(xy, np.array([0.0, 20.0]), np.array([0.0, 0.0]), 48.0)
    assert len(m) == 1 and abs(m[0].time_h - 10.0) < 0.05 and "5 km" in m[0].text


def test_held_water_is_said_after_the_last_flood_frame():
    from viz.rundata import Grid

    g = Grid(np.full((2, 3, 3), 0.5, np.float32), np.array([0.0, 6.0]), np.zeros(6))
    assert story.held_water_note(g, 6.0) == ""
    assert story.held_water_note(g, 7.0) == "water as last computed, at 6 h"
    dry = Grid(np.zeros((2, 3, 3), np.float32), np.array([0.0, 6.0]), np.zeros(6))
    assert story.held_water_note(dry, 7.0) == ""
