/*
 * Records what MuJoCo does with one step of OGBench's point-maze, as fixtures for the Java point-maze
 * (datasets-ingest: PointMazeMujocoDifferentialTest). Not part of the build; see README.md beside this file.
 *
 * The model is OGBench v1.1.0's point model as ogbench/locomaze/assets/point.xml describes it (RK4, timestep 0.02,
 * a sphere of radius 0.7 at height 0.7 on two slide joints, condim 3, friction 1, density 100, margin 0, floor
 * plane) plus the maze's wall boxes as ogbench/locomaze/maze.py adds them (cell (i, j) wall = box of half-size
 * 2 x 2 x 1 centred at (4j - 4, 4i - 4, 1), contype = conaffinity = 1) and its floor resize. Only visual
 * elements (textures, materials, lights, the goal marker) are left out. One step is what
 * ogbench/locomaze/point.py does: qpos += 0.2 * action, qvel = 0, then 5 calls of mj_step.
 *
 * Usage: pointmaze_steps MAZE_FILE SEED [--xml | --step X Y AX AY]
 *   MAZE_FILE: first line the maze name, then one line per grid row, '#' wall, '.' free.
 *   --xml: print the generated model and exit.
 *   --step: print MuJoCo's end position of the one step from (X, Y) with action (AX, AY) and exit.
 * Output (stdout): the maze, then one line per recorded step: kind x y ax ay x' y'.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mujoco/mujoco.h>

#define MAX_CELLS 64
#define RADIUS 0.7
#define UNIT 4.0

static char maze_name[64];
static int rows, cols;
static int wall[MAX_CELLS][MAX_CELLS];

static uint64_t rng_state;

static uint64_t next_u64(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(double lo, double hi) { return lo + (hi - lo) * ((next_u64() >> 11) * 0x1.0p-53); }

static int below(int n) { return (int) (next_u64() % (uint64_t) n); }

static double center_x(int col) { return UNIT * col - UNIT; }
static double center_y(int row) { return UNIT * row - UNIT; }

static void read_maze(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot read maze file %s\n", path); exit(2); }
    char line[256];
    if (!fgets(line, sizeof line, f)) { fprintf(stderr, "%s: empty\n", path); exit(2); }
    line[strcspn(line, "\r\n")] = 0;
    snprintf(maze_name, sizeof maze_name, "%.60s", line);
    rows = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        int n = (int) strlen(line);
        if (rows == 0) cols = n;
        if (n != cols || rows >= MAX_CELLS || n > MAX_CELLS) { fprintf(stderr, "%s: ragged or too large grid\n", path); exit(2); }
        for (int c = 0; c < n; c++) wall[rows][c] = line[c] == '#';
        rows++;
    }
    fclose(f);
}

/* The XML, element for element as point.xml plus maze.py's update_tree would give it, minus visuals. */
static char *model_xml(void) {
    size_t cap = 1 << 20, len = 0;
    char *xml = malloc(cap);
#define EMIT(...) len += (size_t) snprintf(xml + len, cap - len, __VA_ARGS__)
    EMIT("<mujoco>\n");
    EMIT("  <compiler inertiafromgeom=\"true\" angle=\"degree\" coordinate=\"local\"/>\n");
    EMIT("  <option timestep=\"0.02\" integrator=\"RK4\"/>\n");
    EMIT("  <default>\n");
    EMIT("    <joint limited=\"false\" armature=\"0\" damping=\"0\"/>\n");
    EMIT("    <geom condim=\"3\" conaffinity=\"0\" margin=\"0\" friction=\"1 0.5 0.5\" density=\"100\"/>\n");
    EMIT("  </default>\n");
    EMIT("  <worldbody>\n");
    EMIT("    <geom name=\"floor\" pos=\"%d %d 0\" size=\"%d %d .2\" type=\"plane\" conaffinity=\"1\" condim=\"3\"/>\n",
         2 * (cols - 3), 2 * (rows - 3), 2 * cols, 2 * rows);
    EMIT("    <body name=\"torso\" pos=\"0 0 0\">\n");
    EMIT("      <geom name=\"pointbody\" type=\"sphere\" size=\"0.7\" pos=\"0 0 0.7\"/>\n");
    EMIT("      <joint name=\"ballx\" type=\"slide\" axis=\"1 0 0\" pos=\"0 0 0\"/>\n");
    EMIT("      <joint name=\"bally\" type=\"slide\" axis=\"0 1 0\" pos=\"0 0 0\"/>\n");
    EMIT("    </body>\n");
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
            if (!wall[i][j]) continue;
            /* maze_unit 4, maze_height 0.5: pos z = height/2 * unit = 1, half-sizes 2 2 1. */
            EMIT("    <geom name=\"block_%d_%d\" pos=\"%g %g 1\" size=\"2 2 1\" type=\"box\" contype=\"1\" conaffinity=\"1\"/>\n",
                 i, j, center_x(j), center_y(i));
        }
    }
    EMIT("  </worldbody>\n");
    EMIT("  <actuator>\n");
    EMIT("    <motor joint=\"ballx\" ctrlrange=\"-1 1\" ctrllimited=\"true\"/>\n");
    EMIT("    <motor joint=\"bally\" ctrlrange=\"-1 1\" ctrllimited=\"true\"/>\n");
    EMIT("  </actuator>\n");
    EMIT("</mujoco>\n");
#undef EMIT
    return xml;
}

/* Signed distance from (x, y) to the nearest wall box in the plane (negative inside a box). */
static double wall_distance(double x, double y) {
    double best = 1e9;
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
            if (!wall[i][j]) continue;
            double dx = fabs(x - center_x(j)) - UNIT / 2, dy = fabs(y - center_y(i)) - UNIT / 2;
            double outside = hypot(fmax(dx, 0), fmax(dy, 0));
            double d = outside > 0 ? outside : fmax(dx, dy);
            if (d < best) best = d;
        }
    }
    return best;
}

static mjModel *model;
static mjData *data;

/* One OGBench step from (x, y) with action (ax, ay), ending at out[0..1]. */
static void mujoco_step(double x, double y, double ax, double ay, double *out) {
    mj_resetData(model, data);
    data->qpos[0] = x + 0.2 * ax;
    data->qpos[1] = y + 0.2 * ay;
    data->qvel[0] = 0;
    data->qvel[1] = 0;
    for (int k = 0; k < 5; k++) mj_step(model, data);
    out[0] = data->qpos[0];
    out[1] = data->qpos[1];
}

static void record(const char *kind, double x, double y, double ax, double ay) {
    double end[2];
    mujoco_step(x, y, ax, ay, end);
    printf("%s %.17g %.17g %.17g %.17g %.17g %.17g\n", kind, x, y, ax, ay, end[0], end[1]);
}

static void random_action(double *a) {
    switch (below(4)) {
        case 0: /* a corner of the action box, the most common expert action */
            a[0] = below(2) ? 1 : -1;
            a[1] = below(2) ? 1 : -1;
            break;
        case 1: /* one axis only */
            a[0] = below(2) ? uniform(-1, 1) : 0;
            a[1] = a[0] == 0 ? uniform(-1, 1) : 0;
            break;
        default:
            a[0] = uniform(-1, 1);
            a[1] = uniform(-1, 1);
    }
}

/* A uniformly random point of a random free cell. */
static void random_free_point(double *p) {
    int i, j;
    do { i = below(rows); j = below(cols); } while (wall[i][j]);
    p[0] = center_x(j) + uniform(-UNIT / 2, UNIT / 2);
    p[1] = center_y(i) + uniform(-UNIT / 2, UNIT / 2);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s MAZE_FILE SEED [--xml | --step X Y AX AY]\n", argv[0]); return 2; }
    read_maze(argv[1]);
    rng_state = strtoull(argv[2], NULL, 10);
    char *xml = model_xml();
    if (argc > 3 && strcmp(argv[3], "--xml") == 0) { fputs(xml, stdout); return 0; }

    char path[] = "/tmp/pointmaze_steps_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, xml, strlen(xml)) != (ssize_t) strlen(xml)) { fprintf(stderr, "cannot write model file\n"); return 1; }
    close(fd);
    char error[1000] = "";
    model = mj_loadXML(path, NULL, error, sizeof error);
    unlink(path);
    if (!model) { fprintf(stderr, "MuJoCo rejected the model: %s\n", error); return 1; }
    data = mj_makeData(model);
    if (argc > 7 && strcmp(argv[3], "--step") == 0) {
        double end[2];
        mujoco_step(atof(argv[4]), atof(argv[5]), atof(argv[6]), atof(argv[7]), end);
        printf("%.17g %.17g\n", end[0], end[1]);
        return 0;
    }

    printf("# MuJoCo %s (mj_version %d), OGBench point model on maze '%s', seed %s\n", mj_versionString(), mj_version(), maze_name, argv[2]);
    printf("# columns: kind x y ax ay x' y'  (one step: qpos += 0.2*a, qvel = 0, 5 x mj_step)\n");
    printf("maze %s\n", maze_name);
    for (int i = 0; i < rows; i++) {
        printf("grid ");
        for (int j = 0; j < cols; j++) putchar(wall[i][j] ? '#' : '.');
        putchar('\n');
    }

    double a[2], p[2], end[2];
    /* free: far from every wall, where one step must be exact. */
    for (int n = 0; n < 40;) {
        random_free_point(p);
        if (wall_distance(p[0], p[1]) < RADIUS + 0.5) continue;
        random_action(a);
        record("free", p[0], p[1], a[0], a[1]);
        n++;
    }
    /* near: starts within 0.3 of touching (a few hundredths of overlap allowed, as MuJoCo leaves it). */
    for (int n = 0; n < 300;) {
        random_free_point(p);
        double d = wall_distance(p[0], p[1]);
        if (d < RADIUS - 0.05 || d > RADIUS + 0.3) continue;
        random_action(a);
        record("near", p[0], p[1], a[0], a[1]);
        n++;
    }
    /* corner: touching both walls of a concave corner, or the rounded corner of a convex one, any action. */
    for (int n = 0; n < 300;) {
        int i = 1 + below(rows - 2), j = 1 + below(cols - 2);
        if (wall[i][j]) continue;
        int si = below(2) ? 1 : -1, sj = below(2) ? 1 : -1;
        double cx = center_x(j) + sj * UNIT / 2, cy = center_y(i) + si * UNIT / 2; /* a corner of the cell */
        if (wall[i][j + sj] && wall[i + si][j]) { /* concave: touch both faces */
            p[0] = cx - sj * RADIUS;
            p[1] = cy - si * RADIUS;
        } else if (!wall[i][j + sj] && !wall[i + si][j] && wall[i + si][j + sj]) { /* convex: touch the corner */
            double angle = uniform(0, M_PI / 2);
            p[0] = cx - sj * RADIUS * cos(angle);
            p[1] = cy - si * RADIUS * sin(angle);
        } else {
            continue;
        }
        random_action(a);
        record("corner", p[0], p[1], a[0], a[1]);
        n++;
    }
    /* walk: MuJoCo's own trajectories, actions kept for a while so the point pushes into walls and corners;
       every step that starts or would end within 0.2 of a wall is recorded. */
    int recorded = 0;
    for (int w = 0; w < 200 && recorded < 700; w++) {
        random_free_point(p);
        if (wall_distance(p[0], p[1]) < RADIUS) continue;
        random_action(a);
        for (int t = 0; t < 60 && recorded < 700; t++) {
            if (below(5) == 0) random_action(a);
            double near_start = wall_distance(p[0], p[1]);
            double near_end = wall_distance(p[0] + 0.2 * a[0], p[1] + 0.2 * a[1]);
            mujoco_step(p[0], p[1], a[0], a[1], end);
            if (fmin(near_start, near_end) < RADIUS + 0.2) {
                printf("walk %.17g %.17g %.17g %.17g %.17g %.17g\n", p[0], p[1], a[0], a[1], end[0], end[1]);
                recorded++;
            }
            p[0] = end[0];
            p[1] = end[1];
        }
    }
    mj_deleteData(data);
    mj_deleteModel(model);
    return 0;
}
