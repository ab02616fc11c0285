/**
 * The built-in point-maze: a pure-Java re-implementation of OGBench's {@code pointmaze} (v1.1.0, the version FQL
 * pins), its scripted expert, the navigate/stitch dataset generator, and a PNG renderer. No MuJoCo, no Python.
 *
 * <h2>Ids</h2>
 * {@link org.fqlspark.env.EnvironmentRegistry#create(String)} accepts {@code pointmaze-medium},
 * {@code pointmaze-large}, {@code pointmaze-giant} (OGBench's default task, task1, as for
 * {@code pointmaze-*-singletask-v0}) and {@code pointmaze-<maze>-task1} … {@code -task5}. Unknown ids fail with the
 * list of valid ones.
 *
 * <h2>What was taken from OGBench (read from {@code seohongpark/ogbench} at tag v1.1.0)</h2>
 * <table>
 * <caption>Point-maze constants</caption>
 * <tr><th>item</th><th>value</th><th>OGBench source</th></tr>
 * <tr><td>maps</td><td>medium 8×8, large 9×12, giant 12×16, 1 = wall</td><td>{@code locomaze/maze.py maze_map}</td></tr>
 * <tr><td>cell geometry</td><td>cell (i, j) centred at x = 4j − 4, y = 4i − 4; walls are 4×4 boxes</td>
 *     <td>{@code maze_unit=4.0}, {@code _offset_x = _offset_y = 4}</td></tr>
 * <tr><td>tasks</td><td>five (start cell, goal cell) pairs per maze; task1 is the default</td>
 *     <td>{@code set_tasks}; {@code reward_task_id 0 → 1}</td></tr>
 * <tr><td>dynamics</td><td>{@code xy += 0.2 · action}, velocity zeroed every step</td><td>{@code locomaze/point.py step}</td></tr>
 * <tr><td>body</td><td>sphere of radius 0.7</td><td>{@code assets/point.xml pointbody}</td></tr>
 * <tr><td>success</td><td>‖xy − goal‖ ≤ 1.0 (not 0.5: that is ant/humanoid)</td>
 *     <td>{@code _goal_tol = 1.0 if loco_env_type == 'point'}</td></tr>
 * <tr><td>reset</td><td>start-cell centre + U(−1, 1) per axis; single-task goal exactly at the goal-cell centre</td>
 *     <td>{@code add_noise}; {@code singletask_dict add_noise_to_goal=False}</td></tr>
 * <tr><td>time limit</td><td>1000 steps for all three mazes</td><td>{@code max_episode_steps=1000}</td></tr>
 * <tr><td>reward</td><td>success − 1 ∈ {−1, 0}, terminate on success</td><td>singletask {@code step}</td></tr>
 * <tr><td>expert</td><td>unit vector to the centre of the BFS-next neighbour cell (up, left, down, right tie order)</td>
 *     <td>{@code get_oracle_subgoal}, {@code generate_locomaze.py}</td></tr>
 * <tr><td>datasets</td><td>navigate: 1000 episodes × 1000 steps (giant 500 × 2000), new vertex-cell goal on arrival;
 *     stitch: 5000 × 200, goal 4 BFS steps away; action noise σ = 0.5</td><td>{@code data_gen_scripts/commands.sh}</td></tr>
 * <tr><td>labels</td><td>success at the current state s_t; r = success − 1, mask = 1 − success</td>
 *     <td>{@code relabel_utils.relabel_dataset}</td></tr>
 * </table>
 *
 * <h2>Where this differs from OGBench/MuJoCo</h2>
 * <ul>
 * <li><b>Contact.</b> MuJoCo sets the position, then runs 5 sub-steps whose soft contacts push a disc that was moved
 * into a wall back out, leaving a few hundredths of overlap. Here the step reproduces MuJoCo's result rather than
 * simulating it: the disc moves the whole way, then each overlapped wall box pushes it back along the contact
 * normal, leaving the fraction of the overlap MuJoCo leaves ({@code PointMaze.CONTACT_RESIDUAL}). Free-space steps
 * are identical, single-wall contacts agree to 1e-4, corners and box seams (where MuJoCo's wall friction couples
 * two contacts) to 0.06, by the recorded MuJoCo steps of {@code PointMazeMujocoDifferentialTest}.</li>
 * <li><b>Actions</b> are clipped to [−1, 1] inside {@code step}; OGBench's point env adds whatever it is given, and
 * its callers clip.</li>
 * <li><b>Random numbers.</b> Java's {@code SplittableRandom}, seeded per reset and per generated episode, instead of
 * NumPy's global generator: the same distributions, not the same draws.</li>
 * <li><b>No validation split</b> ({@code *-val.npz}) is generated, and the observation is only (x, y) (as OGBench's
 * point-maze, whose {@code qpos} is also the observation).</li>
 * <li>The environment's reward and success are computed after the step (as ogbench 1.1.0's env), the dataset labels
 * before it (as its relabelling): the §5 caveat of docs/algorithm.md, kept on purpose.</li>
 * </ul>
 *
 * <h2>Generating a dataset</h2>
 * {@code fql generate --env pointmaze-medium --kind stitch --output PATH [--episodes N] [--episode-length STEPS]
 * [--noise SIGMA] [--seed S] [--shards N] [--overwrite] [--png [PATH]] [--png-episodes N] [--master URL]}
 * ({@link org.fqlspark.env.GenerateCommand}) runs {@link org.fqlspark.env.MazeDatasetGenerator} (OGBench's sizes by
 * default: 1M transitions) and writes the result through {@link org.fqlspark.ingest.IngestJob#write}, so generated
 * and ingested datasets share one Parquet contract, one manifest and one atomic commit. The manifest's source
 * details record everything needed to regenerate the data (env, kind, episodes, length, noise, seed, goal).
 *
 * <h2>Rendering</h2>
 * {@link org.fqlspark.env.MazeRenderer} draws maze row 0 at the top (the map as printed in OGBench's source), 48 pixels
 * per cell, the start region as a blue square, the goal as a gold disc of the success radius, successful paths in
 * green and failed ones in red. It runs headless and draws no text, so it needs no fonts.
 */
package org.fqlspark.env;
