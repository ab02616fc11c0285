package org.fqlspark.env;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A maze grid and its tasks, copied from OGBench v1.1.0 ({@code ogbench/locomaze/maze.py}, the {@code maze_map} and
 * {@code set_tasks} of the {@code medium}, {@code large} and {@code giant} maze types), plus the grid geometry that
 * OGBench uses to place walls in MuJoCo.
 *
 * <p>Geometry, as in OGBench: cell {@code (row, col)} is a square of side {@link #MAZE_UNIT} = 4 centred at
 * {@code x = 4·col − 4}, {@code y = 4·row − 4}, so cell (1, 1), the first free cell of every map, is centred on the
 * origin. A wall cell is a solid box filling its whole square.
 *
 * <p>Immutable; shortest-path tables are computed once in the constructor so that the data generator can ask
 * "which neighbour next?" in constant time.
 */
public final class MazeMap {

    /** Side of one grid square in MuJoCo units (OGBench's {@code maze_unit}). */
    public static final double MAZE_UNIT = 4.0;
    /** OGBench's {@code _offset_x} and {@code _offset_y}: cell (1, 1) sits at the origin. */
    public static final double OFFSET = 4.0;

    /** OGBench's neighbour order in its BFS; it decides ties between equally short paths, so we keep it. */
    private static final int[][] NEIGHBOUR_STEPS = {{-1, 0}, {0, -1}, {1, 0}, {0, 1}};

    public static final MazeMap MEDIUM = new MazeMap("medium", new int[][] {
            {1, 1, 1, 1, 1, 1, 1, 1},
            {1, 0, 0, 1, 1, 0, 0, 1},
            {1, 0, 0, 1, 0, 0, 0, 1},
            {1, 1, 0, 0, 0, 1, 1, 1},
            {1, 0, 0, 1, 0, 0, 0, 1},
            {1, 0, 1, 0, 0, 1, 0, 1},
            {1, 0, 0, 0, 1, 0, 0, 1},
            {1, 1, 1, 1, 1, 1, 1, 1},
    }, new int[][] {
            {1, 1, 6, 6},
            {6, 1, 1, 6},
            {5, 3, 4, 2},
            {6, 5, 6, 1},
            {2, 6, 1, 1},
    });

    public static final MazeMap LARGE = new MazeMap("large", new int[][] {
            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},
            {1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1},
            {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1},
            {1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1},
            {1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1},
            {1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1},
            {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},
            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    }, new int[][] {
            {1, 1, 7, 10},
            {5, 4, 7, 1},
            {7, 4, 1, 10},
            {3, 8, 5, 4},
            {1, 1, 5, 4},
    });

    public static final MazeMap GIANT = new MazeMap("giant", new int[][] {
            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1},
            {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1},
            {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},
            {1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},
            {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1},
            {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1},
            {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},
            {1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},
            {1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1},
            {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1},
            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    }, new int[][] {
            {1, 1, 10, 14},
            {1, 14, 10, 1},
            {8, 14, 1, 1},
            {8, 3, 5, 12},
            {5, 9, 3, 8},
    });

    private static final List<MazeMap> ALL = List.of(MEDIUM, LARGE, GIANT);

    private final String name;
    private final int rows;
    private final int cols;
    private final boolean[] walls;
    private final List<MazeTask> tasks;
    private final List<Cell> freeCells;
    private final List<Cell> vertexCells;
    /** distances[goal][cell] = BFS steps from cell to goal over free cells, −1 if unreachable or a wall. */
    private final int[][] distances;
    /** nextHop[goal][cell] = the neighbour OGBench's oracle heads to, as a flat index; the cell itself at the goal. */
    private final int[][] nextHop;

    private MazeMap(String name, int[][] grid, int[][] taskCells) {
        this.name = name;
        this.rows = grid.length;
        this.cols = grid[0].length;
        this.walls = new boolean[rows * cols];
        for (int r = 0; r < rows; r++) {
            if (grid[r].length != cols) throw new IllegalArgumentException("maze '" + name + "' is not rectangular at row " + r);
            for (int c = 0; c < cols; c++) walls[r * cols + c] = grid[r][c] == 1;
        }
        // The collision code only looks at the 3×3 neighbourhood of the point's cell; a solid border keeps the
        // point inside the grid so those look-ups never leave it.
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if ((r == 0 || c == 0 || r == rows - 1 || c == cols - 1) && !walls[r * cols + c]) {
                    throw new IllegalArgumentException("maze '" + name + "' needs a wall border; cell (" + r + ", " + c + ") is free");
                }
            }
        }
        List<Cell> free = new ArrayList<>();
        List<Cell> vertices = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (walls[r * cols + c]) continue;
                Cell cell = new Cell(r, c);
                free.add(cell);
                if (!isHallway(r, c)) vertices.add(cell);
            }
        }
        this.freeCells = Collections.unmodifiableList(free);
        this.vertexCells = Collections.unmodifiableList(vertices);
        this.distances = new int[rows * cols][];
        this.nextHop = new int[rows * cols][];
        for (Cell goal : free) {
            int g = index(goal);
            distances[g] = bfs(goal);
            nextHop[g] = nextHops(distances[g]);
        }
        List<MazeTask> taskList = new ArrayList<>();
        for (int t = 0; t < taskCells.length; t++) {
            MazeTask task = new MazeTask(t + 1, new Cell(taskCells[t][0], taskCells[t][1]), new Cell(taskCells[t][2], taskCells[t][3]));
            requireFree(task.start(), "start of " + task.name());
            requireFree(task.goal(), "goal of " + task.name());
            taskList.add(task);
        }
        this.tasks = List.copyOf(taskList);
    }

    /** The maze called {@code name} ({@code medium}, {@code large} or {@code giant}, any case). */
    public static MazeMap named(String name) {
        for (MazeMap map : ALL) {
            if (map.name.equals(name.toLowerCase(Locale.ROOT))) return map;
        }
        throw new IllegalArgumentException("unknown maze '" + name + "'; expected one of " + names());
    }

    /** Names of the built-in mazes, smallest first. */
    public static List<String> names() {
        return ALL.stream().map(MazeMap::name).toList();
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Cells outside the grid count as walls, so callers need no bounds checks. */
    public boolean isWall(int row, int col) {
        return row < 0 || col < 0 || row >= rows || col >= cols || walls[row * cols + col];
    }

    public boolean isFree(Cell cell) {
        return !isWall(cell.row(), cell.col());
    }

    /** All free cells in row-major order (OGBench's {@code all_cells}: where data episodes start). */
    public List<Cell> freeCells() {
        return freeCells;
    }

    /**
     * Free cells that are not the middle of a straight corridor (OGBench's {@code vertex_cells}: the goals of
     * navigate episodes).
     */
    public List<Cell> vertexCells() {
        return vertexCells;
    }

    /** OGBench's five evaluation tasks for this maze, task1 first. */
    public List<MazeTask> tasks() {
        return tasks;
    }

    /** Task {@code number} (1-based, as in {@code -task3}). */
    public MazeTask task(int number) {
        if (number < 1 || number > tasks.size()) {
            throw new IllegalArgumentException("maze '" + name + "' has tasks 1.." + tasks.size() + ", not " + number);
        }
        return tasks.get(number - 1);
    }

    /** x of the centre of any cell in column {@code col}. */
    public static double centerX(int col) {
        return col * MAZE_UNIT - OFFSET;
    }

    /** y of the centre of any cell in row {@code row}. */
    public static double centerY(int row) {
        return row * MAZE_UNIT - OFFSET;
    }

    /** Row containing y, by OGBench's {@code xy_to_ij} rounding (truncation, exact inside the maze where the argument is positive). */
    public static int rowOf(double y) {
        return (int) Math.floor((y + OFFSET + 0.5 * MAZE_UNIT) / MAZE_UNIT);
    }

    /** Column containing x. */
    public static int colOf(double x) {
        return (int) Math.floor((x + OFFSET + 0.5 * MAZE_UNIT) / MAZE_UNIT);
    }

    /** The cell containing the point (x, y). */
    public Cell cellAt(double x, double y) {
        int row = rowOf(y);
        int col = colOf(x);
        if (row < 0 || col < 0 || row >= rows || col >= cols) {
            throw new IllegalArgumentException("position (" + x + ", " + y + ") is outside maze '" + name + "'");
        }
        return new Cell(row, col);
    }

    /**
     * Number of moves between adjacent free cells on a shortest path from {@code from} to {@code to}, or −1 if
     * there is none.
     */
    public int distance(Cell from, Cell to) {
        requireFree(from, "from");
        requireFree(to, "to");
        return distances[index(to)][index(from)];
    }

    /**
     * The neighbour that OGBench's oracle ({@code get_oracle_subgoal}) heads for when standing in {@code from} with
     * the goal in {@code goal}: among the four neighbours in the order up, left, down, right, the first with the
     * smallest BFS distance to the goal that is strictly smaller than the current one; {@code from} itself when it
     * is the goal or the goal cannot be reached.
     */
    public Cell nextCellToward(Cell from, Cell goal) {
        requireFree(from, "from");
        requireFree(goal, "goal");
        int hop = nextHop[index(goal)][index(from)];
        return new Cell(hop / cols, hop % cols);
    }

    /** Allocation-free form of {@link #nextCellToward} on flat indices ({@code row * cols() + col}), for the generator's inner loop. */
    int nextHopIndex(int goalIndex, int fromIndex) {
        return nextHop[goalIndex][fromIndex];
    }

    /** The cells of a shortest path, both ends included, following {@link #nextCellToward}; empty if unreachable. */
    public List<Cell> shortestPath(Cell from, Cell to) {
        if (distance(from, to) < 0) return List.of();
        List<Cell> path = new ArrayList<>();
        Cell current = from;
        path.add(current);
        while (!current.equals(to)) {
            current = nextCellToward(current, to);
            path.add(current);
        }
        return List.copyOf(path);
    }

    /** Free cells exactly {@code steps} BFS moves from {@code origin}, in BFS visiting order (stitch goals). */
    public List<Cell> cellsAtDistance(Cell origin, int steps) {
        requireFree(origin, "origin");
        // OGBench collects these while running its BFS from the start cell, so the order (which decides which cell a
        // given random draw picks) is the BFS queue order, not row-major order.
        List<Integer> discovered = new ArrayList<>();
        int[] dist = bfs(origin, discovered);
        List<Cell> result = new ArrayList<>();
        for (int cell : discovered) {
            if (dist[cell] == steps) result.add(new Cell(cell / cols, cell % cols));
        }
        return List.copyOf(result);
    }

    int index(Cell cell) {
        return cell.row() * cols + cell.col();
    }

    private boolean isHallway(int r, int c) {
        boolean vertical = !isWall(r - 1, c) && !isWall(r + 1, c) && isWall(r, c - 1) && isWall(r, c + 1);
        boolean horizontal = !isWall(r, c - 1) && !isWall(r, c + 1) && isWall(r - 1, c) && isWall(r + 1, c);
        return vertical || horizontal;
    }

    private int[] bfs(Cell goal) {
        return bfs(goal, null);
    }

    /** BFS distances from {@code goal}; appends each newly reached cell to {@code discovered} (when non-null) in queue order. */
    private int[] bfs(Cell goal, List<Integer> discovered) {
        int[] dist = new int[rows * cols];
        Arrays.fill(dist, -1);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        dist[index(goal)] = 0;
        queue.add(index(goal));
        while (!queue.isEmpty()) {
            int current = queue.poll();
            int r = current / cols;
            int c = current % cols;
            for (int[] step : NEIGHBOUR_STEPS) {
                int nr = r + step[0];
                int nc = c + step[1];
                if (isWall(nr, nc) || dist[nr * cols + nc] != -1) continue;
                dist[nr * cols + nc] = dist[current] + 1;
                queue.add(nr * cols + nc);
                if (discovered != null) discovered.add(nr * cols + nc);
            }
        }
        return dist;
    }

    private int[] nextHops(int[] dist) {
        int[] hops = new int[rows * cols];
        for (int cell = 0; cell < rows * cols; cell++) {
            hops[cell] = cell;
            if (walls[cell] || dist[cell] <= 0) continue;
            int r = cell / cols;
            int c = cell % cols;
            int best = dist[cell];
            for (int[] step : NEIGHBOUR_STEPS) {
                int nr = r + step[0];
                int nc = c + step[1];
                if (isWall(nr, nc)) continue;
                int d = dist[nr * cols + nc];
                if (d >= 0 && d < best) {
                    best = d;
                    hops[cell] = nr * cols + nc;
                }
            }
        }
        return hops;
    }

    private void requireFree(Cell cell, String role) {
        if (cell.row() >= rows || cell.col() >= cols) {
            throw new IllegalArgumentException(role + " cell " + cell + " is outside maze '" + name + "' (" + rows + "×" + cols + ")");
        }
        if (isWall(cell.row(), cell.col())) {
            throw new IllegalArgumentException(role + " cell " + cell + " is a wall in maze '" + name + "'");
        }
    }

    @Override
    public String toString() {
        return "MazeMap[" + name + ", " + rows + "×" + cols + "]";
    }
}
