package org.fqlspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The format readers' semantics (docs/algorithm.md §6), without Spark. */
class SourceReadersTest {

    @TempDir
    Path dir;

    private static final float C = DatasetSchema.ACTION_CLIP;

    @Test
    void rawNpzBuildsTransitionsFromValidRowsLikeOgbench() throws IOException {
        Path f = Fixtures.rawNpz(dir.resolve("raw.npz"));
        SourceData s = SourceReaders.read(f, null, ReadOptions.DEFAULTS);
        TransitionData d = s.data();
        // Rows 2 and 6 are the trajectories' final states: 7 rows give 2 + 3 transitions.
        assertEquals(5, d.size());
        assertArrayEquals(new float[] {0, 0, 1, -0.5f, 3, -1.5f, 4, -2, 5, -2.5f}, d.observations());
        assertArrayEquals(new float[] {1, -0.5f, 2, -1, 4, -2, 5, -2.5f, 6, -3}, d.nextObservations());
        assertArrayEquals(new float[] {0, 1, 0, 0, 1}, d.terminals());
        assertArrayEquals(new long[] {0, 0, 1, 1, 1}, d.episodeIds());
        assertArrayEquals(new int[] {0, 1, 0, 1, 2}, d.stepIndices());
        assertArrayEquals(new float[] {0, 0, 0, 0, 0}, d.rewards(), "raw form: no task reward");
        assertArrayEquals(new float[] {1, 1, 1, 1, 1}, d.masks());
        assertEquals("raw", s.source().details().get("form"));
        assertTrue(s.source().details().get("labelling").startsWith("none"));
        assertEquals(SourceReaders.sha256(f), s.source().sha256());
        assertEquals(Files.size(f), s.source().sizeBytes());
    }

    @Test
    void rawNpzGoalLabellingUsesQposOfTheCurrentState() throws IOException {
        Path f = Fixtures.committed("ogbench-raw-numpy.npz"); // numpy savez_compressed, qpos[i] = (i, 2i, 7)
        ReadOptions goal = new ReadOptions(null, D4rlFamily.AUTO, new GoalLabel(1, 2.3, 0.5));
        TransitionData d = SourceReaders.read(f, DatasetFormat.NPZ, goal).data();
        // valid rows 0, 1, 3; only row 1 (qpos xy (1, 2)) is within 0.5 of (1, 2.3)
        assertEquals(3, d.size());
        assertArrayEquals(new float[] {-1, 0, -1}, d.rewards());
        assertArrayEquals(new float[] {1, 0, 1}, d.masks());
        assertArrayEquals(new float[] {0, 1, 1}, d.terminals());
        assertArrayEquals(new long[] {0, 0, 1}, d.episodeIds());
        for (int k = 0; k < 3; k++) {
            int row = new int[] {0, 1, 3}[k];
            for (int j = 0; j < 4; j++) {
                assertEquals((float) (row + j / 8.0), d.observations()[k * 4 + j]);
                assertEquals((float) (row + 1 + j / 8.0), d.nextObservations()[k * 4 + j]);
            }
            assertEquals((float) (row / 4.0), d.actions()[k * 2]);
        }
    }

    @Test
    void exportedNpzPassesTransitionsThroughAndNarrowsFloat64() throws IOException {
        double[] obs = {0.1, 0.2, 0.3, 0.4, 9, 9};
        double[] next = {0.3, 0.4, 5, 5, 9.5, 9.5};
        Path f = new NpzWriter()
                .f64("observations", obs, 3, 2)
                .f32("actions", new float[] {0.5f, 2f, -3f}, 3, 1)
                .f64("next_observations", next, 3, 2)
                .f32("rewards", new float[] {-1, -1, 0})
                .f32("masks", new float[] {1, 1, 0})
                .write(dir.resolve("exported.npz"));
        SourceData s = SourceReaders.read(f, null, ReadOptions.DEFAULTS);
        TransitionData d = s.data();
        assertEquals(3, d.size());
        for (int i = 0; i < 6; i++) {
            assertEquals((float) obs[i], d.observations()[i]);
            assertEquals((float) next[i], d.nextObservations()[i]);
        }
        assertArrayEquals(new float[] {-1, -1, 0}, d.rewards());
        assertArrayEquals(new float[] {1, 1, 0}, d.masks());
        // no terminals key: row 1 ends where row 2 does not start (5,5 vs 9,9); the last always ends
        assertArrayEquals(new float[] {0, 1, 1}, d.terminals());
        assertArrayEquals(new long[] {0, 0, 1}, d.episodeIds());
        assertEquals("exported", s.source().details().get("form"));
    }

    @Test
    void d4rlFollowsQlearningDatasetSemantics() {
        // rows 0..5; timeouts[2] drops transition 2; the last row starts no transition
        int n = 6;
        float[] obs = new float[n * 2];
        for (int i = 0; i < n; i++) {
            obs[2 * i] = i;
            obs[2 * i + 1] = 10 * i;
        }
        float[] act = {0.5f, -0.5f, 1.5f, -2f, 0, 0, 0.25f, 1, 0, 0, 0, 0};
        float[] rew = {1, 2, 3, 4, 5, 6};
        boolean[] term = {false, true, false, false, false, false};
        boolean[] timeouts = {false, false, true, false, false, true};
        Path f = Hdf5Writer.d4rl(dir.resolve("hopper-medium-v2.hdf5"), obs, 2, act, 2, rew, term, timeouts);
        SourceData s = SourceReaders.read(f, null, ReadOptions.DEFAULTS);
        TransitionData d = s.data();
        assertEquals(4, d.size()); // transitions 0, 1, 3, 4
        assertArrayEquals(new float[] {0, 0, 1, 10, 3, 30, 4, 40}, d.observations());
        assertArrayEquals(new float[] {1, 10, 2, 20, 4, 40, 5, 50}, d.nextObservations());
        assertArrayEquals(new float[] {1, 2, 4, 5}, d.rewards(), "not antmaze: rewards unchanged");
        assertArrayEquals(new float[] {1, 0, 1, 1}, d.masks(), "mask = 1 - terminals");
        // next_obs of transition 1 is row 2, but transition 3 starts at row 3: a boundary
        assertArrayEquals(new float[] {0, 1, 0, 1}, d.terminals());
        assertArrayEquals(new long[] {0, 0, 1, 1}, d.episodeIds());
        assertArrayEquals(new int[] {0, 1, 0, 1}, d.stepIndices());
        assertEquals("1", s.source().details().get("dropped_timeouts")); // row 2; the last row never starts one
        assertEquals("other", s.source().details().get("d4rl_family"));

        TransitionCleaner.Result clean = TransitionCleaner.clean(d, f.toString(), s.locator(), false);
        assertArrayEquals(new float[] {0.5f, -0.5f, C, -C, 0.25f, C, 0, 0}, clean.data().actions());
        assertEquals(3, clean.clippedActionValues());
        assertArrayEquals(new float[] {0.5f, -0.5f, 1.5f, -2f, 0.25f, 1, 0, 0}, d.actions(), "input untouched");
    }

    @Test
    void d4rlAntmazeRewardShiftComesFromTheFileNameOrTheOption() {
        float[] obs = {0, 1, 2};
        float[] act = {0, 0, 0};
        float[] rew = {0, 1, 0};
        boolean[] no = new boolean[3];
        Path ant = Hdf5Writer.d4rl(dir.resolve("Ant_maze_big-maze_noisy_multistart_True_multigoal_True_sparse.hdf5"),
                obs, 1, act, 1, rew, no, no);
        assertArrayEquals(new float[] {-1, 0}, SourceReaders.read(ant, null, ReadOptions.DEFAULTS).data().rewards());
        ReadOptions noShift = new ReadOptions(0f, D4rlFamily.AUTO, null);
        assertArrayEquals(new float[] {0, 1}, SourceReaders.read(ant, null, noShift).data().rewards());
        Path plain = Hdf5Writer.d4rl(dir.resolve("walker.hdf5"), obs, 1, act, 1, rew, no, no);
        ReadOptions antmaze = new ReadOptions(null, D4rlFamily.ANTMAZE, null);
        assertArrayEquals(new float[] {-1, 0}, SourceReaders.read(plain, null, antmaze).data().rewards());
    }

    @Test
    void d4rlAdroitAlsoEndsSegmentsAtTerminals() {
        float[] obs = {0, 1, 2, 3};
        float[] act = new float[4];
        boolean[] term = {false, true, false, false};
        boolean[] no = new boolean[4];
        Path f = Hdf5Writer.d4rl(dir.resolve("door-human-v1.hdf5"), obs, 1, act, 1, new float[4], term, no);
        SourceData s = SourceReaders.read(f, null, ReadOptions.DEFAULTS);
        assertEquals("adroit", s.source().details().get("d4rl_family"));
        assertArrayEquals(new float[] {0, 1, 1}, s.data().terminals());
        Path g = Hdf5Writer.d4rl(dir.resolve("other.hdf5"), obs, 1, act, 1, new float[4], term, no);
        assertArrayEquals(new float[] {0, 0, 1}, SourceReaders.read(g, null, ReadOptions.DEFAULTS).data().terminals());
    }

    @Test
    void h5pyWrittenD4rlFileReads() {
        // h5py booleans (an HDF5 enum), gzip chunks, extra groups: what real D4RL files hold
        Path f = Fixtures.committed("antmaze-h5py-tiny.hdf5");
        SourceData s = SourceReaders.read(f, null, ReadOptions.DEFAULTS);
        TransitionData d = s.data();
        int[] rows = {0, 1, 3, 4};
        assertEquals(4, d.size());
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(rows[k] * 10 + j + 0.25f, d.observations()[k * 3 + j]);
                assertEquals((rows[k] + 1) * 10 + j + 0.25f, d.nextObservations()[k * 3 + j]);
            }
            assertEquals(rows[k] * 0.5f - 1f, d.rewards()[k], "antmaze from the file name: r - 1");
        }
        assertArrayEquals(new float[] {1, 1, 1, 0}, d.masks());
        assertArrayEquals(new float[] {0, 1, 0, 1}, d.terminals());
        assertEquals("antmaze", s.source().details().get("d4rl_family"));
    }

    @Test
    void minariEpisodesBecomeTransitions() {
        Path f = dir.resolve("main_data.hdf5");
        try (WritableHdfFile h = HdfFile.write(f)) {
            Hdf5Writer.minariEpisode(h, 0, new float[] {0, 1, 2}, 1, new float[] {0.1f, 0.2f}, 1,
                    new float[] {1, 2}, new boolean[] {false, false}, new boolean[] {false, true});
            Hdf5Writer.minariEpisode(h, 3, new float[] {5, 6}, 1, new float[] {-2f}, 1,
                    new float[] {7}, new boolean[] {true}, new boolean[] {false});
        }
        TransitionData d = SourceReaders.read(f, null, ReadOptions.DEFAULTS).data();
        assertArrayEquals(new float[] {0, 1, 5}, d.observations());
        assertArrayEquals(new float[] {1, 2, 6}, d.nextObservations());
        assertArrayEquals(new float[] {0.1f, 0.2f, -2f}, d.actions());
        assertArrayEquals(new float[] {1, 2, 7}, d.rewards());
        assertArrayEquals(new float[] {1, 1, 0}, d.masks(), "mask = 1 - termination");
        assertArrayEquals(new float[] {0, 1, 1}, d.terminals());
        assertArrayEquals(new long[] {0, 0, 3}, d.episodeIds(), "Minari's own episode ids");
        assertArrayEquals(new int[] {0, 1, 0}, d.stepIndices());
    }

    @Test
    void h5pyWrittenMinariFileWithDictObservationsReads() throws IOException {
        // a Minari dataset directory: <name>/data/main_data.hdf5
        Path ds = dir.resolve("pointmaze-tiny-v0");
        Files.createDirectories(ds.resolve("data"));
        Files.copy(Fixtures.committed("minari-h5py-tiny.hdf5"), ds.resolve("data/main_data.hdf5"));
        SourceData s = SourceReaders.read(ds, null, ReadOptions.DEFAULTS);
        assertEquals("minari", s.source().format());
        TransitionData d = s.data();
        assertEquals(6, d.obsDim(), "achieved_goal(2) + desired_goal(2) + observation(2), sorted by key");
        assertEquals(5, d.size());
        long[] eps = {0, 0, 2, 2, 2};
        int[] steps = {0, 1, 0, 1, 2};
        for (int k = 0; k < 5; k++) {
            long e = eps[k];
            int t = steps[k];
            float[] expected = {100f * e + t, 1, 5, 6, t * 0.5f, -t};
            float[] expectedNext = {100f * e + t + 1, 1, 5, 6, (t + 1) * 0.5f, -(t + 1)};
            for (int j = 0; j < 6; j++) {
                assertEquals(expected[j], d.observations()[k * 6 + j]);
                assertEquals(expectedNext[j], d.nextObservations()[k * 6 + j]);
            }
            assertEquals((float) (t * 0.1), d.actions()[k * 2]);
            assertEquals((float) (t + e), d.rewards()[k]);
        }
        assertArrayEquals(eps, d.episodeIds());
        assertArrayEquals(steps, d.stepIndices());
        assertArrayEquals(new float[] {1, 1, 1, 1, 0}, d.masks());
        assertArrayEquals(new float[] {0, 1, 0, 0, 1}, d.terminals());
    }

    @Test
    void formatIsDetectedFromExtensionAndLayout() throws IOException {
        assertSame(DatasetFormat.NPZ, SourceReaders.detect(Fixtures.rawNpz(dir.resolve("a.npz"))));
        assertSame(DatasetFormat.D4RL, SourceReaders.detect(Fixtures.committed("antmaze-h5py-tiny.hdf5")));
        assertSame(DatasetFormat.MINARI, SourceReaders.detect(Fixtures.committed("minari-h5py-tiny.hdf5")));
        Path odd = Files.writeString(dir.resolve("data.csv"), "1,2");
        DatasetException e = assertThrows(DatasetException.class, () -> SourceReaders.detect(odd));
        assertTrue(e.getMessage().contains("--format"), e.getMessage());
    }

    @Test
    void cleanerDropsInvalidTransitionsAndEndsTheBrokenSegment() {
        float nan = Float.NaN;
        TransitionData d = new TransitionData(1, 1,
                new float[] {0, 1, nan, 3, 4},
                new float[] {0, 0, 0, 0, 0},
                new float[] {0, 0, 0, 0, Float.POSITIVE_INFINITY},
                new float[] {1, 1, 1, 1, 1},
                new float[] {0, 0, 0, 0, 1},
                new float[] {1, nan, 3, 4, 5},
                new long[] {7, 7, 7, 7, 7},
                new int[] {0, 1, 2, 3, 4});
        TransitionCleaner.Result r = TransitionCleaner.clean(d, "mem", SourceLocator.identity(), true);
        assertEquals(3, r.droppedInvalid());
        assertArrayEquals(new float[] {0, 3}, r.data().observations());
        // row 0's successor was dropped: row 0 now ends a segment; row 3 ends one as row 4 was dropped
        assertArrayEquals(new float[] {1, 1}, r.data().terminals());
        assertArrayEquals(new int[] {0, 3}, r.data().stepIndices());
        DatasetException e = assertThrows(DatasetException.class,
                () -> TransitionCleaner.clean(d, "mem", SourceLocator.identity(), false));
        assertEquals("next_observations", e.key());
        assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void cleanerRefusesRowsOutOfEpisodeOrder() {
        TransitionData d = new TransitionData(1, 1, new float[2], new float[2], new float[2], new float[] {1, 1},
                new float[] {0, 1}, new float[2], new long[] {1, 0}, new int[] {0, 0});
        DatasetException e = assertThrows(DatasetException.class,
                () -> TransitionCleaner.clean(d, "generated", SourceLocator.identity(), false));
        assertEquals(DatasetSchema.EPISODE_ID, e.key());
    }
}
