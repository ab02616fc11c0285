package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class EpisodeStatisticsTest {

    private static final List<EpisodeResult> TINY = List.of(
            EpisodeResult.completed(0, 11, -1.0, 2, true),
            EpisodeResult.completed(1, 12, -3.0, 4, false),
            EpisodeResult.failed(2, 13, -7.0, 7, "bridge `x`: the process exited with code 3"),
            EpisodeResult.completed(3, 14, -5.0, 9, true));

    @Test
    void summaryOfATinyCaseByHand() {
        EpisodeStatistics s = EpisodeStatistics.of(TINY);
        // The failed episode counts as unsuccessful in the success rate, and is in no return or length statistic.
        assertEquals(3, s.completed());
        assertEquals(1, s.failed());
        assertEquals(2, s.successes());
        assertEquals(2.0 / 4.0, s.successRate(), 1e-15);
        // Returns -1, -3, -5: mean -3, deviations 2, 0, -2, sample variance 8 / 2 = 4.
        assertEquals(-3.0, s.meanReturn(), 1e-15);
        assertEquals(2.0, s.returnStd(), 1e-15);
        assertEquals(5.0, s.meanLength(), 1e-15);   // (2 + 4 + 9) / 3
        assertEquals(15, s.totalLength());
        // t(0.975, 2 dof) = 4.302652729911275 (tables: 4.303); half width 4.3027 · 2 / √3.
        assertEquals(4.302652729911275, EpisodeStatistics.studentT975(2), 1e-9);
        double half = 4.302652729911275 * 2 / Math.sqrt(3);
        assertArrayEquals(new double[] {-3 - half, -3 + half}, s.returnConfidenceInterval(), 1e-8);
        assertArrayEquals(new double[] {-7.968275423687506, 1.9682754236875057}, s.returnConfidenceInterval(), 1e-8);
        // Wilson over all 4 episodes, p = 1/2, z = 1.95996: centre (p + z²/8) / (1 + z²/4) = 1/2 by symmetry,
        // half z/(1 + z²/4) · √(p(1−p)/4 + z²/64).
        assertArrayEquals(new double[] {0.15003898915214953, 0.8499610108478505}, s.successRateConfidenceInterval(), 1e-12);
    }

    @Test
    void largeSamplesApproachTheNormalQuantile() {
        assertEquals(12.706204736174705, EpisodeStatistics.studentT975(1), 1e-8);
        assertEquals(2.009575234489209, EpisodeStatistics.studentT975(49), 1e-8);   // 50 episodes, the paper's count
        assertTrue(Math.abs(EpisodeStatistics.studentT975(100_000) - EpisodeStatistics.Z_975) < 1e-4);
    }

    @Test
    void mergeEqualsAddingInOneGo() {
        EpisodeStatistics left = EpisodeStatistics.of(TINY.subList(0, 2));
        EpisodeStatistics right = EpisodeStatistics.of(TINY.subList(2, 4));
        EpisodeStatistics merged = left.merge(right);
        EpisodeStatistics whole = EpisodeStatistics.of(TINY);
        assertEquals(whole.completed(), merged.completed());
        assertEquals(whole.failed(), merged.failed());
        assertEquals(whole.meanReturn(), merged.meanReturn(), 1e-12);
        assertEquals(whole.returnStd(), merged.returnStd(), 1e-12);
        assertEquals(whole.meanLength(), merged.meanLength(), 1e-12);
        assertEquals(whole.successRate(), merged.successRate(), 1e-12);
        EpisodeStatistics withEmpty = EpisodeStatistics.of(TINY).merge(new EpisodeStatistics());
        assertEquals(whole.returnStd(), withEmpty.returnStd(), 1e-12);
    }

    @Test
    void undefinedStatisticsAreNotNumbers() {
        EpisodeStatistics none = EpisodeStatistics.of(List.of());
        assertTrue(Double.isNaN(none.successRate()));
        assertNull(none.successRateConfidenceInterval());
        // One failed episode: 0% success (not undefined, and never 100%), no return.
        EpisodeStatistics crashed = EpisodeStatistics.of(List.of(EpisodeResult.failed(0, 1, 0, 0, "crashed")));
        assertEquals(0.0, crashed.successRate());
        assertArrayEquals(new double[] {0, 0.7934506856227626}, crashed.successRateConfidenceInterval(), 1e-12);
        assertTrue(Double.isNaN(crashed.meanReturn()));
        assertNull(crashed.returnConfidenceInterval());
        EpisodeStatistics one = EpisodeStatistics.of(List.of(EpisodeResult.completed(0, 1, -4, 4, false)));
        assertEquals(-4, one.meanReturn());
        assertTrue(Double.isNaN(one.returnStd()));
        assertNull(one.returnConfidenceInterval());
        // All failures: Wilson still gives an interval that contains 0.
        assertEquals(0.0, one.successRateConfidenceInterval()[0]);
    }

    @Test
    void oneGoodEpisodeOfFiftyIsTwoPercentNotAHundred() {
        List<EpisodeResult> episodes = new java.util.ArrayList<>();
        episodes.add(EpisodeResult.completed(0, 1, -10, 10, true));
        for (int i = 1; i < 50; i++) episodes.add(EpisodeResult.failed(i, i + 1, 0, 0, "bridge crashed"));
        EpisodeStatistics s = EpisodeStatistics.of(episodes);
        assertEquals(0.02, s.successRate(), 1e-15);
        assertEquals(49, s.failed());
        assertEquals(-10, s.meanReturn());
    }
}
