package org.fqlspark.train.worker;

/**
 * Every random stream of a training run as a pure function of the run seed, so that a retried Spark task, a resumed
 * run and the single-process {@code LocalTrainer} (the tests' reference) draw exactly the same numbers.
 *
 * <ul>
 *   <li>batch indices of worker {@code w} at global step {@code s}: {@link #samplerSeed(long, int, long)};</li>
 *   <li>the agent's own noise (next actions, x0, t, z) comes from {@code FqlAgent.noiseStream(step)} of an agent
 *       seeded with {@link #workerNoiseSeed(long, int)}: the run seed itself for worker 0, so that W = 1 is the plain
 *       single-agent loop;</li>
 *   <li>which worker holds a transition: {@link #workerOf(long, int, int)}, from its (episode_id, step_index) key, so
 *       the split does not depend on how Spark happened to split the Parquet files; with action chunks (h &gt; 1)
 *       {@link #workerOfEpisode(long, int)}, from the episode alone, so that a worker holds whole episodes
 *       ({@link #workerOf(long, int, int, int)} picks the rule);</li>
 * </ul>
 */
public final class Seeds {

    private Seeds() {
    }

    /** The SplitMix64/Murmur3 finaliser: a bijective mix of 64 bits. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** Seed of the batch-index stream of {@code worker} at global step {@code step} (0-based: the step about to be taken). */
    public static long samplerSeed(long seed, int worker, long step) {
        return mix64(mix64(mix64(seed ^ 0x2545F4914F6CDD1DL) + worker) + step);
    }

    /** Seed of worker {@code worker}'s agent (its noise stream); worker 0 uses the run seed unchanged. */
    public static long workerNoiseSeed(long seed, int worker) {
        return worker == 0 ? seed : mix64(seed + 0x9E3779B97F4A7C15L * worker);
    }

    /** The worker that holds transition (episodeId, stepIndex) out of {@code workers}. */
    public static int workerOf(long episodeId, int stepIndex, int workers) {
        if (workers == 1) {
            return 0;
        }
        return (int) Math.floorMod(mix64(mix64(episodeId) + stepIndex), (long) workers);
    }

    /**
     * The worker that holds every transition of episode {@code episodeId} out of {@code workers}: the split used with
     * action chunks (docs/algorithm.md §11), where a chunk is h consecutive rows of one worker and so must not find
     * another worker's rows of its episode missing.
     */
    public static int workerOfEpisode(long episodeId, int workers) {
        if (workers == 1) {
            return 0;
        }
        return (int) Math.floorMod(mix64(mix64(episodeId) ^ 0x45504953L), (long) workers);
    }

    /**
     * The worker of transition (episodeId, stepIndex) for chunks of {@code horizon} steps: per transition
     * ({@link #workerOf(long, int, int)}) without chunking, which keeps FQL's split exactly as it was, and per episode
     * ({@link #workerOfEpisode}) with h &gt; 1. The offline shards and the online buffers both split by this.
     */
    public static int workerOf(long episodeId, int stepIndex, int workers, int horizon) {
        return horizon > 1 ? workerOfEpisode(episodeId, workers) : workerOf(episodeId, stepIndex, workers);
    }

    /** The seed of a run's online phase (docs/algorithm.md §5): episode resets and action noise derive from it, apart from evaluation's. */
    public static long onlineSeed(long seed) {
        return mix64(seed ^ 0x6F6E6C696E65L);
    }

    /** Seed of the N(0, I) draw of online actor {@code actor} for its {@code step}-th environment step. */
    public static long actionNoiseSeed(long onlineSeed, int actor, long step) {
        return mix64(mix64(onlineSeed + actor) + step);
    }
}
