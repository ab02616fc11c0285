package org.fqlspark.eval;

import java.util.SplittableRandom;

/**
 * The random numbers of evaluation episode {@code i}, a pure function of (run seed, i), so that results do not depend
 * on how episodes are spread over partitions, executors or retries.
 *
 * <p>Two independent streams per episode, both from the SplitMix64 finaliser of {@code seed + φ·k} (φ the 64-bit
 * golden ratio): the environment seed uses {@code k = 2i + 1} and is cut to 31 bits (non-negative, so that any
 * gymnasium, old-gym or MuJoCo seeding accepts it); the action-noise stream is
 * {@code new SplittableRandom(mix(seed + φ·(2i + 2)))}, one N(0, I) draw of {@code actionDim} values per step.
 */
public final class EpisodeSeeds {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private EpisodeSeeds() {
    }

    /** The seed passed to {@code Environment.reset} for episode {@code episode}; in [0, 2³¹). */
    public static long environmentSeed(long runSeed, int episode) {
        checkEpisode(episode);
        return mix64(runSeed + GOLDEN_GAMMA * (2L * episode + 1)) >>> 33;
    }

    /** The action-noise stream of episode {@code episode}: fresh z ~ N(0, I) every step (docs/algorithm.md §7). */
    public static SplittableRandom actionNoise(long runSeed, int episode) {
        checkEpisode(episode);
        return new SplittableRandom(mix64(runSeed + GOLDEN_GAMMA * (2L * episode + 2)));
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser, as in SplitMix64. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void checkEpisode(int episode) {
        if (episode < 0) throw new IllegalArgumentException("episode index must be non-negative, was " + episode);
    }
}
