package org.fqlspark.env;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.fqlspark.data.TransitionData;

/**
 * Makes point-maze datasets the way OGBench made {@code pointmaze-*-navigate-v0} and {@code pointmaze-*-stitch-v0}
 * ({@code data_gen_scripts/generate_locomaze.py}), already labelled for one task as
 * {@code ogbench.make_env_and_datasets('pointmaze-…-singletask-taskN-v0')} would return them (docs/algorithm.md §6.1).
 *
 * <p>Per episode: start at a uniformly drawn free cell's centre plus uniform ±1 noise per axis; draw a goal cell
 * (navigate: any non-corridor cell; stitch: a cell exactly 4 BFS steps away, or the start cell if there is none)
 * and a goal point at its centre plus the same noise; then each step act with the {@link MazeExpert}'s unit
 * direction plus N(0, σ²) noise per component (σ = 0.5 in OGBench's point-maze commands), clip to [−1, 1] and step
 * the {@link PointMaze} dynamics. Navigate draws a new goal whenever the point ends a step within 1.0 of the
 * current one; stitch keeps its goal and hovers there.
 *
 * <p>Labels, from the state the transition starts in (s_t, as OGBench's relabelling does): success = ‖s_t − g‖ ≤ 1.0
 * for the task's goal-cell centre g, {@code reward = success − 1}, {@code mask = 1 − success}; {@code terminals = 1}
 * on the last transition of each episode only (time-limit ends, not goals). Stored actions are additionally clipped
 * to ±(1 − 1e-5) as the FQL loader does; the dynamics used the [−1, 1]-clipped action.
 *
 * <p>Each episode draws from its own generator seeded from (seed, episode index), so episodes can be simulated in
 * parallel and the arrays are identical for a given seed whatever the thread count.
 */
public final class MazeDatasetGenerator {

    /** OGBench's {@code adj_steps}: the BFS distance of a stitch episode's goal from its start. */
    public static final int STITCH_GOAL_DISTANCE = 4;
    /** OGBench's {@code --noise} in every point-maze data command (the script's own default, 0.2, is for ant/humanoid). */
    public static final double OGBENCH_POINT_NOISE = 0.5;
    /** The FQL loader's action clip (docs/algorithm.md §6.1): strictly inside (−1, 1), where tanh-squashed baselines can take atanh. */
    public static final float ACTION_LIMIT = 1f - 1e-5f;

    /**
     * What to generate.
     *
     * @param envId         registry id naming the maze and the task the rewards are labelled for
     * @param kind          navigate or stitch
     * @param episodes      number of episodes
     * @param episodeLength transitions per episode
     * @param actionNoise   standard deviation of the Gaussian noise added to the expert's actions
     * @param seed          seed; equal seeds give identical datasets
     */
    public record Config(String envId, DatasetKind kind, int episodes, int episodeLength, double actionNoise, long seed) {

        public Config {
            EnvironmentRegistry.pointMaze(envId);
            Objects.requireNonNull(kind, "kind");
            if (episodes <= 0) throw new IllegalArgumentException("episodes must be positive, was " + episodes);
            if (episodeLength <= 0) throw new IllegalArgumentException("episode length must be positive, was " + episodeLength);
            if (!(actionNoise >= 0) || Double.isInfinite(actionNoise)) {
                throw new IllegalArgumentException("action noise must be a finite standard deviation ≥ 0, was " + actionNoise);
            }
            // Observations are stored as one flat float[] of 2 values per transition.
            long transitions = (long) episodes * episodeLength;
            if (transitions * 2 > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(episodes + " episodes × " + episodeLength + " steps = " + transitions
                        + " transitions; at most " + (Integer.MAX_VALUE - 8) / 2 + " fit in one in-memory dataset");
            }
        }

        /** OGBench's recipe for this maze and kind: its episode count and length (1M transitions) and σ = 0.5. */
        public static Config ogbench(String envId, DatasetKind kind, long seed) {
            MazeMap map = EnvironmentRegistry.pointMaze(envId).map();
            return new Config(envId, kind, kind.defaultEpisodes(map), kind.defaultEpisodeLength(map), OGBENCH_POINT_NOISE, seed);
        }

        public int transitions() {
            return episodes * episodeLength;
        }
    }

    private MazeDatasetGenerator() {
    }

    /** Generates the whole dataset in memory (about 40 bytes per transition). */
    public static TransitionData generate(Config config) {
        PointMaze environment = EnvironmentRegistry.pointMaze(config.envId());
        MazeMap map = environment.map();
        int n = config.transitions();
        int length = config.episodeLength();
        float[] observations = new float[2 * n];
        float[] actions = new float[2 * n];
        float[] rewards = new float[n];
        float[] masks = new float[n];
        float[] terminals = new float[n];
        float[] nextObservations = new float[2 * n];
        long[] episodeIds = new long[n];
        int[] stepIndices = new int[n];
        Episodes episodes = new Episodes(map, environment, config);
        IntStream.range(0, config.episodes()).parallel().forEach(episode -> episodes.simulate(episode, episode * length,
                observations, actions, rewards, masks, nextObservations));
        for (int episode = 0; episode < config.episodes(); episode++) {
            int first = episode * length;
            for (int step = 0; step < length; step++) {
                episodeIds[first + step] = episode;
                stepIndices[first + step] = step;
            }
            terminals[first + length - 1] = 1f;
        }
        return new TransitionData(2, 2, observations, actions, rewards, masks, terminals, nextObservations, episodeIds, stepIndices);
    }

    /** The per-episode simulation, sharing the read-only maze tables between threads. */
    private static final class Episodes {
        private final MazeMap map;
        private final PointMaze task;
        private final MazeExpert expert;
        private final Config config;
        private final List<Cell> freeCells;
        private final List<Cell> vertexCells;

        Episodes(MazeMap map, PointMaze task, Config config) {
            this.map = map;
            this.task = task;
            this.expert = new MazeExpert(map);
            this.config = config;
            this.freeCells = map.freeCells();
            this.vertexCells = map.vertexCells();
        }

        void simulate(int episode, int firstRow, float[] observations, float[] actions, float[] rewards, float[] masks,
                      float[] nextObservations) {
            SplittableRandom random = new SplittableRandom(episodeSeed(config.seed(), episode));
            Cell start = freeCells.get(random.nextInt(freeCells.size()));
            Cell goal = config.kind() == DatasetKind.NAVIGATE ? vertexCells.get(random.nextInt(vertexCells.size())) : stitchGoal(start, random);
            double[] position = {noisy(MazeMap.centerX(start.col()), random), noisy(MazeMap.centerY(start.row()), random)};
            double goalX = noisy(MazeMap.centerX(goal.col()), random);
            double goalY = noisy(MazeMap.centerY(goal.row()), random);
            int goalIndex = map.index(goal);
            double sigma = config.actionNoise();
            double[] direction = new double[2];
            float x = (float) position[0];
            float y = (float) position[1];
            for (int step = 0; step < config.episodeLength(); step++) {
                int row = firstRow + step;
                observations[2 * row] = x;
                observations[2 * row + 1] = y;
                boolean success = task.isAtGoal(x, y);
                rewards[row] = success ? 0f : -1f;
                masks[row] = success ? 0f : 1f;

                int cell = MazeMap.rowOf(position[1]) * map.cols() + MazeMap.colOf(position[0]);
                expert.direction(position[0], position[1], cell, goalIndex, direction);
                double actionX = PointMaze.clip(direction[0] + sigma * random.nextGaussian());
                double actionY = PointMaze.clip(direction[1] + sigma * random.nextGaussian());
                PointMaze.move(map, position, PointMaze.STEP_SCALE * actionX, PointMaze.STEP_SCALE * actionY);
                actions[2 * row] = Math.max(-ACTION_LIMIT, Math.min(ACTION_LIMIT, (float) actionX));
                actions[2 * row + 1] = Math.max(-ACTION_LIMIT, Math.min(ACTION_LIMIT, (float) actionY));

                x = (float) position[0];
                y = (float) position[1];
                nextObservations[2 * row] = x;
                nextObservations[2 * row + 1] = y;

                if (config.kind() == DatasetKind.NAVIGATE
                        && Math.hypot(position[0] - goalX, position[1] - goalY) <= PointMaze.GOAL_TOLERANCE) {
                    goal = vertexCells.get(random.nextInt(vertexCells.size()));
                    goalIndex = map.index(goal);
                    goalX = noisy(MazeMap.centerX(goal.col()), random);
                    goalY = noisy(MazeMap.centerY(goal.row()), random);
                }
            }
        }

        private Cell stitchGoal(Cell start, SplittableRandom random) {
            List<Cell> candidates = map.cellsAtDistance(start, STITCH_GOAL_DISTANCE);
            return candidates.isEmpty() ? start : candidates.get(random.nextInt(candidates.size()));
        }

        private static double noisy(double centre, SplittableRandom random) {
            return centre + random.nextDouble(-PointMaze.POSITION_NOISE, PointMaze.POSITION_NOISE);
        }
    }

    /** A well-mixed seed per (seed, episode), so neighbouring episodes and seeds do not get related streams. */
    static long episodeSeed(long seed, int episode) {
        return mix64(mix64(seed) + 0x9E3779B97F4A7C15L * (episode + 1L));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
