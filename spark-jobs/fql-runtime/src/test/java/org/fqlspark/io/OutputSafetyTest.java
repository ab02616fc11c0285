package org.fqlspark.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.launch.ProcessExit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output-safety pieces on their own: the overwrite rule, atomic publishing, tagged pictures, leases, exits. */
class OutputSafetyTest {

    @TempDir
    java.nio.file.Path dir;

    private final FileSystem fs;

    OutputSafetyTest() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
    }

    private static final OutputGuard.Kind KIND = new OutputGuard.Kind("test", "marker.json",
            name -> name.equals("data"), bytes -> new String(bytes, StandardCharsets.UTF_8).contains("\"ours\""));

    private Path path(String name) {
        return new Path(dir.resolve(name).toUri());
    }

    @Test
    void sameOrInsideComparesWholePathSegmentsOnOneFileSystem() {
        assertTrue(OutputGuard.sameOrInside(new Path("file:/a/b"), new Path("file:/a/b")));
        assertTrue(OutputGuard.sameOrInside(new Path("file:/a/b/c"), new Path("file:/a/b")));
        assertTrue(OutputGuard.sameOrInside(new Path("file:/a/b/c"), new Path("file:/a/b/")));
        assertFalse(OutputGuard.sameOrInside(new Path("file:/a/bc"), new Path("file:/a/b")));
        assertFalse(OutputGuard.sameOrInside(new Path("file:/a"), new Path("file:/a/b")));
        assertFalse(OutputGuard.sameOrInside(new Path("hdfs://nn/a/b"), new Path("file:/a")));
        assertTrue(OutputGuard.sameOrInside(new Path("file:/x"), new Path("file:/")));
    }

    @Test
    void theGuardWritesNewOrEmptyAndReplacesOnlyOurOwnOutput() throws IOException {
        OutputGuard.check(fs, path("new"), "--output", KIND, false, List.of());
        Files.createDirectories(dir.resolve("empty"));
        OutputGuard.check(fs, path("empty"), "--output", KIND, false, List.of());

        java.nio.file.Path ours = Files.createDirectories(dir.resolve("ours"));
        Files.writeString(ours.resolve("marker.json"), "{\"ours\": 1}");
        Files.createDirectories(ours.resolve("data"));
        Files.writeString(ours.resolve(".hidden"), "x");
        var noFlag = assertThrows(OutputGuard.OutputRefusedException.class,
                () -> OutputGuard.check(fs, path("ours"), "--output", KIND, false, List.of()));
        assertTrue(noFlag.getMessage().contains("pass --overwrite"), noFlag.getMessage());
        OutputGuard.check(fs, path("ours"), "--output", KIND, true, List.of());

        Files.writeString(ours.resolve("thesis.tex"), "x");
        var foreign = assertThrows(OutputGuard.OutputRefusedException.class,
                () -> OutputGuard.check(fs, path("ours"), "--output", KIND, true, List.of()));
        assertTrue(foreign.getMessage().contains("thesis.tex"), foreign.getMessage());

        java.nio.file.Path fake = Files.createDirectories(dir.resolve("fake"));
        Files.writeString(fake.resolve("marker.json"), "{\"someone else\": 1}");
        var notOurs = assertThrows(OutputGuard.OutputRefusedException.class,
                () -> OutputGuard.check(fs, path("fake"), "--output", KIND, true, List.of()));
        assertTrue(notOurs.getMessage().contains("not recognisably a test output"), notOurs.getMessage());

        Files.writeString(dir.resolve("a-file"), "x");
        assertThrows(OutputGuard.OutputRefusedException.class,
                () -> OutputGuard.check(fs, path("a-file"), "--output", KIND, true, List.of()));
    }

    @Test
    void theGuardNeverAcceptsTheInputOrADirectoryHoldingIt() throws IOException {
        java.nio.file.Path input = Files.writeString(Files.createDirectories(dir.resolve("in")).resolve("data.npz"), "x");
        for (String output : List.of("in", "in/data.npz", "")) {
            var e = assertThrows(OutputGuard.OutputRefusedException.class, () -> OutputGuard.check(fs,
                    output.isEmpty() ? new Path(dir.toUri()) : path(output), "--output", KIND, true,
                    List.of(new OutputGuard.Keep("the input", input.toString()))));
            assertTrue(e.getMessage().contains("the input"), e.getMessage());
        }
        // a sibling is fine
        OutputGuard.check(fs, path("out"), "--output", KIND, true, List.of(new OutputGuard.Keep("the input", input.toString())));
    }

    @Test
    void publishingOverAnOldVersionPutsTheMarkerLastAndDeletesOnlyOurOldFiles() throws IOException {
        java.nio.file.Path target = Files.createDirectories(dir.resolve("target"));
        Files.createDirectories(target.resolve("data"));
        Files.writeString(target.resolve("data/old-part"), "old");
        Files.writeString(target.resolve(".user-notes"), "keep");
        stage("new-part", "new marker");

        List<String> order = new ArrayList<>();
        FileSystem recording = new org.apache.hadoop.fs.FilterFileSystem(fs) {
            @Override
            public boolean rename(Path src, Path dst) throws IOException {
                order.add(dst.getName());
                return super.rename(src, dst);
            }
        };
        HadoopFiles.publishDirectory(recording, path(".staging"), path("target"), "marker.json", KIND.ownEntry());
        assertEquals(List.of("new-part", "marker.json"), order, "the marker moves last");
        assertEquals(Set.of("data/new-part", "marker.json", ".user-notes"), files(target));
        assertFalse(Files.exists(dir.resolve(".staging")));

        stage("newer-part", "newer marker");   // a third version replaces the marker in place
        HadoopFiles.publishDirectory(fs, path(".staging"), path("target"), "marker.json", KIND.ownEntry());
        assertEquals(Set.of("data/newer-part", "marker.json", ".user-notes"), files(target));
        assertEquals("newer marker", Files.readString(target.resolve("marker.json")));
        assertEquals("keep", Files.readString(target.resolve(".user-notes")));
    }

    private void stage(String part, String marker) throws IOException {
        java.nio.file.Path staging = Files.createDirectories(dir.resolve(".staging"));
        Files.createDirectories(staging.resolve("data"));
        Files.writeString(staging.resolve("data").resolve(part), part);
        Files.writeString(staging.resolve("marker.json"), marker);
    }

    @Test
    void replacingAFileIsAtomicAndLeavesNoTemporaryOrStaleChecksum() throws IOException {
        Path target = path("f.json");
        HadoopFiles.replaceAtomically(fs, target, "one".getBytes(StandardCharsets.UTF_8));
        HadoopFiles.replaceAtomically(fs, target, "second version".getBytes(StandardCharsets.UTF_8));
        try (InputStream in = fs.open(target)) {   // through the checksummed file system: its .crc must match
            assertEquals("second version", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(Set.of("f.json"), files(dir));
    }

    @Test
    void picturesWeDrawAreTaggedAndStillValidPngs() throws IOException {
        BufferedImage image = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
        image.setRGB(3, 2, 0xff0000);
        byte[] png = PngFiles.encode(image);
        assertTrue(PngFiles.isOurs(png));
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(7, back.getWidth());
        assertEquals(0xff0000, back.getRGB(3, 2) & 0xffffff);
        java.io.ByteArrayOutputStream plain = new java.io.ByteArrayOutputStream();
        ImageIO.write(image, "png", plain);
        assertFalse(PngFiles.isOurs(plain.toByteArray()), "a PNG from elsewhere is not ours");
        assertFalse(PngFiles.isOurs("not a png at all, but long enough to be looked at".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aSecondDriverIsRefusedWhileTheLeaseIsLiveAndTakesOverAStaleOne() throws IOException {
        Path d = path("sweep");
        try (Lease first = Lease.acquire(fs, d, "sweep output")) {
            var e = assertThrows(Lease.HeldException.class, () -> Lease.acquire(fs, d, "sweep output"));
            assertTrue(e.getMessage().contains("in use by another driver") && e.getMessage().contains("pid "), e.getMessage());
            first.check();
        }
        assertFalse(Files.exists(dir.resolve("sweep").resolve(Lease.FILE)), "released on close");
        assertFalse(Files.exists(dir.resolve("sweep")), "the directory the lease made, left empty, goes with it");
        Files.createDirectories(dir.resolve("sweep"));
        Files.writeString(dir.resolve("sweep").resolve(Lease.FILE),
                "{\"id\":\"dead\",\"holder\":\"pid 1 on gone\",\"since\":\"2026-01-01T00:00:00Z\",\"refreshed_epoch_ms\":1}");
        try (Lease taken = Lease.acquire(fs, d, "sweep output")) {
            taken.check();
            assertFalse(Files.readString(dir.resolve("sweep").resolve(Lease.FILE)).contains("dead"));
        }
        assertTrue(Files.isDirectory(dir.resolve("sweep")), "a directory that was there before the lease stays");
    }

    /**
     * A fresh lease whose holder ran on this host, in this pid space, is taken over at once when its process is gone,
     * or when its pid now belongs to a process started at another time; a fresh lease from another host, or from
     * another pid space (a container sharing the host name), still holds.
     */
    @Test
    void aLeaseOfAProcessGoneFromThisHostIsTakenOverAtOnce() throws Exception {
        Path probe = path("probe");
        try (Lease ours = Lease.acquire(fs, probe, "probe")) {
            ours.check();
        }
        Files.createDirectories(dir.resolve("probe"));
        try (Lease ours = Lease.acquire(fs, probe, "probe")) {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> mine = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                    dir.resolve("probe").resolve(Lease.FILE).toFile(), java.util.Map.class);
            assertEquals(ProcessHandle.current().pid(), ((Number) mine.get("pid")).longValue());
            assertTrue(mine.containsKey("host") && mine.containsKey("process_start_epoch_ms"), mine.toString());

            Process ended = new ProcessBuilder("true").start();
            ended.waitFor();
            long now = System.currentTimeMillis();
            java.util.function.BiFunction<Object, Object, String> lease = (pid, start) -> ("{\"id\":\"other\",\"holder\":\"pid "
                    + pid + " on " + mine.get("host") + "\",\"since\":\"2026-01-01T00:00:00Z\",\"refreshed_epoch_ms\":" + now
                    + ",\"host\":\"" + mine.get("host") + "\",\"pid\":" + pid + ",\"process_start_epoch_ms\":" + start
                    + (mine.containsKey("pid_space") ? ",\"pid_space\":\"" + mine.get("pid_space") + "\"" : "") + "}");

            // gone: its pid no longer runs
            assertTakenOver(lease.apply(ended.pid(), now), "is no longer running");
            // gone: its pid now runs a process that started at another time (this JVM)
            assertTakenOver(lease.apply(ProcessHandle.current().pid(), 1000), "is now another process");
            // alive: this very process, as it recorded itself
            assertHeld(lease.apply(ProcessHandle.current().pid(), mine.get("process_start_epoch_ms")));
            // another host: only the lease's age counts
            assertHeld(lease.apply(ended.pid(), now).replace("\"host\":\"" + mine.get("host") + "\"", "\"host\":\"elsewhere\""));
            // another pid space on a host of the same name
            assertHeld(lease.apply(ended.pid(), now).replaceAll(",\"pid_space\":\"[^\"]*\"", "")
                    .replace("}", ",\"pid_space\":\"another-boot pid:[1]\"}"));
        }
    }

    private void assertTakenOver(String leaseJson, String why) throws IOException {
        Path d = path("held");
        Files.createDirectories(dir.resolve("held"));
        Files.writeString(dir.resolve("held").resolve(Lease.FILE), leaseJson);
        List<String> notes = new ArrayList<>();
        try (Lease taken = Lease.acquire(fs, d, "training run", notes::add)) {
            taken.check();
        }
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).contains("taken over") && notes.get(0).contains(why), notes.get(0));
    }

    private void assertHeld(String leaseJson) throws IOException {
        Path d = path("held");
        Files.createDirectories(dir.resolve("held"));
        Files.writeString(dir.resolve("held").resolve(Lease.FILE), leaseJson);
        var e = assertThrows(Lease.HeldException.class, () -> Lease.acquire(fs, d, "training run", note -> { }));
        assertTrue(e.getMessage().contains("in use by another driver"), e.getMessage());
        Files.delete(dir.resolve("held").resolve(Lease.FILE));
    }

    @Test
    void successUnderSparkSubmitReturnsInsteadOfExiting() {
        List<Integer> exits = new ArrayList<>();
        ProcessExit.finish(0, true, exits::add);
        assertEquals(List.of(), exits, "success under spark-submit must not call exit (YARN cluster mode reports FAILED)");
        ProcessExit.finish(1, true, exits::add);
        ProcessExit.finish(2, true, exits::add);
        ProcessExit.finish(0, false, exits::add);
        assertEquals(List.of(1, 2, 0), exits);
    }

    private static Set<String> files(java.nio.file.Path root) throws IOException {
        try (Stream<java.nio.file.Path> walk = Files.walk(root)) {
            Set<String> out = new TreeSet<>();
            walk.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
                    .filter(n -> !n.endsWith(".crc")).forEach(out::add);
            return out;
        }
    }

    @SuppressWarnings("unused")
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
