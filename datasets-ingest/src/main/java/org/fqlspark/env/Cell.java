package org.fqlspark.env;

/**
 * One square of a maze grid, addressed like OGBench's {@code (i, j)}: {@code row} is the index into the map's
 * outer list (it grows with the MuJoCo y coordinate), {@code col} the index into a row (it grows with x).
 */
public record Cell(int row, int col) {

    public Cell {
        if (row < 0 || col < 0) {
            throw new IllegalArgumentException("a maze cell needs non-negative row and column, was (" + row + ", " + col + ")");
        }
    }

    /** True when the two cells share an edge (diagonal neighbours do not count: the point cannot squeeze between). */
    public boolean isAdjacentTo(Cell other) {
        return Math.abs(row - other.row) + Math.abs(col - other.col) == 1;
    }

    @Override
    public String toString() {
        return "(" + row + ", " + col + ")";
    }
}
