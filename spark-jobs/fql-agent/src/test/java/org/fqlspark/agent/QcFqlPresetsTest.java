package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The QC-FQL presets (docs/algorithm.md §11.5): Q-chunking's README flags, and the FQL presets untouched. */
class QcFqlPresetsTest {

    @Test
    void qcFqlPresetsCarryTheReadmeFlagsAndLeaveTheFqlPresetsAlone() {
        FqlPresets.Preset triple = FqlPresets.get("qc-fql-cube-triple-play-singletask-task2-v0");
        assertEquals("qc-fql-cube-triple-play", triple.name());
        assertEquals(5, triple.config().horizonLength());
        assertEquals(100, triple.config().alpha());
        assertEquals(1_000_000, triple.offlineSteps());
        // apart from α and h, acfql.py's defaults are FQL's
        assertEquals(FqlConfig.defaults().with(FqlConfig.ALPHA, 100.0).with(FqlConfig.HORIZON_LENGTH, 5), triple.config());
        for (String domain : new String[] {"cube-double-play", "cube-quadruple-play", "scene-play", "puzzle-3x3-play"}) {
            assertEquals(triple.config(), FqlPresets.get("qc-fql-" + domain).config(), domain);
        }
        // the FQL presets of the same domains stay FQL
        assertEquals(1, FqlPresets.get("cube-double-play").config().horizonLength());
        assertEquals(300, FqlPresets.get("cube-double-play").config().alpha());
        for (FqlPresets.Preset p : FqlPresets.all().values()) {
            assertEquals(p.name().startsWith("qc-fql-") ? 5 : 1, p.config().horizonLength(), p.name());
        }
    }
}
