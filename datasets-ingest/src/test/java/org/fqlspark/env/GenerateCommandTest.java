package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.TestSpark;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code generate} command end to end on Spark local[2], and its flag checking. */
class GenerateCommandTest {

    @TempDir
    Path dir;

    private final SparkSession spark = TestSpark.session();

    private record Run(int exitCode, String out, String err) {}

    private static Run execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new GenerateCommand());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static GenerateJob.Options parse(String... args) {
        GenerateCommand command = new GenerateCommand();
        new CommandLine(command).parseArgs(args);
        return command.options();
    }

    @Test
    void writesTheGeneratedDataExactlyWithManifestAndPng() throws IOException {
        String output = dir.resolve("medium-stitch").toString();
        Run run = execute("--env", "pointmaze-medium", "--kind", "stitch", "--episodes", "6", "--episode-length", "50",
                "--seed", "3", "--shards", "2", "--output", output, "--png");
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(run.out().contains("6 episodes × 50 steps = 300 transitions"), run.out());

        DatasetReader.Loaded loaded = DatasetReader.read(spark, output);
        TransitionData expected = MazeDatasetGenerator.generate(
                new MazeDatasetGenerator.Config("pointmaze-medium-task1", DatasetKind.STITCH, 6, 50, 0.5, 3));
        TransitionData actual = loaded.data();
        assertArrayEquals(expected.observations(), actual.observations());
        assertArrayEquals(expected.actions(), actual.actions());
        assertArrayEquals(expected.rewards(), actual.rewards());
        assertArrayEquals(expected.masks(), actual.masks());
        assertArrayEquals(expected.terminals(), actual.terminals());
        assertArrayEquals(expected.nextObservations(), actual.nextObservations());
        assertArrayEquals(expected.episodeIds(), actual.episodeIds());
        assertArrayEquals(expected.stepIndices(), actual.stepIndices());
        assertEquals(2, loaded.manifest().shards().size());
        assertEquals(6, loaded.manifest().counts().episodes());
        assertEquals("generated", loaded.manifest().source().format());
        assertEquals("pointmaze-medium-task1", loaded.manifest().source().details().get("env"));
        assertEquals("20.0,20.0", loaded.manifest().source().details().get("goal_xy"));
        assertEquals("3", loaded.manifest().source().details().get("seed"));

        Path png = dir.resolve("medium-stitch-trajectories.png");
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(MazeRenderer.width(MazeMap.MEDIUM), image.getWidth());
        assertEquals(MazeRenderer.height(MazeMap.MEDIUM), image.getHeight());

        Run again = execute("--env", "pointmaze-medium", "--kind", "stitch", "--episodes", "6", "--episode-length", "50",
                "--output", output);
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("--output") && again.err().contains("already exists"), again.err());
        Run pngExists = execute("--env", "pointmaze-medium", "--kind", "stitch", "--episodes", "6", "--episode-length", "50",
                "--output", dir.resolve("elsewhere").toString(), "--png", png.toString());
        assertEquals(2, pngExists.exitCode());
        assertTrue(pngExists.err().contains("--png") && pngExists.err().contains("already exists"), pngExists.err());
        assertFalse(Files.exists(dir.resolve("elsewhere")), "a refused PNG must stop the run before any data is written");

        Run replaced = execute("--env", "pointmaze-medium", "--kind", "navigate", "--episodes", "2", "--episode-length", "40",
                "--output", output, "--overwrite", "--png");
        assertEquals(0, replaced.exitCode(), replaced.err());
        assertEquals(80, DatasetReader.read(spark, output).data().size());

        // --overwrite replaces only a picture this project drew: a user's PNG (or any other file) is kept
        Path theirs = dir.resolve("holiday.png");
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", theirs.toFile());
        byte[] before = Files.readAllBytes(theirs);
        Run notOurs = execute("--env", "pointmaze-medium", "--kind", "navigate", "--episodes", "2", "--episode-length", "40",
                "--output", output, "--overwrite", "--png", theirs.toString());
        assertEquals(2, notOurs.exitCode(), notOurs.err());
        assertTrue(notOurs.err().contains("not a picture this project drew"), notOurs.err());
        assertArrayEquals(before, Files.readAllBytes(theirs));
        assertEquals(80, DatasetReader.read(spark, output).data().size(), "the refused run wrote nothing");
        // and the dataset directory itself is never the picture's path
        Run intoData = execute("--env", "pointmaze-medium", "--kind", "navigate", "--episodes", "2", "--episode-length", "40",
                "--output", output, "--overwrite", "--png", output + "/manifest.json");
        assertEquals(2, intoData.exitCode(), intoData.err());
        assertEquals(80, DatasetReader.read(spark, output).data().size());
    }

    @Test
    void badFlagsExitTwoNamingTheFlagAndWriteNothing() {
        String output = dir.resolve("never").toString();
        Run env = execute("--env", "antmaze-large", "--kind", "stitch", "--output", output);
        assertEquals(2, env.exitCode());
        assertTrue(env.err().contains("--env: unknown environment id 'antmaze-large'"), env.err());
        assertTrue(env.err().contains("valid ids: pointmaze-medium"), env.err());

        Run kind = execute("--env", "pointmaze-medium", "--kind", "explore", "--output", output);
        assertEquals(2, kind.exitCode());
        assertTrue(kind.err().contains("--kind") && kind.err().contains("[navigate, stitch]"), kind.err());

        Run episodes = execute("--env", "pointmaze-medium", "--kind", "stitch", "--episodes", "0", "--output", output);
        assertEquals(2, episodes.exitCode());
        assertTrue(episodes.err().contains("--episodes: expected a positive count"), episodes.err());

        Run noise = execute("--env", "pointmaze-medium", "--kind", "stitch", "--noise", "-1", "--output", output);
        assertEquals(2, noise.exitCode());
        assertTrue(noise.err().contains("--noise"), noise.err());

        Run missing = execute("--env", "pointmaze-medium", "--kind", "stitch");
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--output"), missing.err());
        assertFalse(Files.exists(dir.resolve("never")));
    }

    @Test
    void defaultsFollowOgbenchAndThePngGoesBesideTheOutput() {
        GenerateJob.Options stitch = parse("--env", "pointmaze-large-task2", "--kind", "stitch", "--output", "/data/large");
        assertEquals(5000, stitch.data().episodes());
        assertEquals(200, stitch.data().episodeLength());
        assertEquals(0.5, stitch.data().actionNoise());
        assertEquals(0L, stitch.data().seed());
        assertEquals("pointmaze-large-task2", stitch.data().envId());
        assertEquals(0, stitch.shards());
        assertNull(stitch.png());

        GenerateJob.Options giant = parse("--env", "pointmaze-giant", "--kind", "navigate", "--output", "hdfs://nn/data/giant/",
                "--png", "--seed", "7");
        assertEquals(500, giant.data().episodes());
        assertEquals(2000, giant.data().episodeLength());
        assertEquals("pointmaze-giant-task1", giant.data().envId());
        assertEquals("hdfs://nn/data/giant-trajectories.png", giant.png());
        assertEquals(10, giant.pngEpisodes());
        assertEquals(7L, giant.data().seed());

        GenerateJob.Options explicit = parse("--env", "pointmaze-medium", "--kind", "stitch", "--output", "out",
                "--png", "pictures/p.png", "--png-episodes", "5", "--episodes", "9", "--episode-length", "30");
        assertEquals("pictures/p.png", explicit.png());
        assertEquals(5, explicit.pngEpisodes());
        assertEquals(9, explicit.data().episodes());
        assertEquals(30, explicit.data().episodeLength());
    }
}
