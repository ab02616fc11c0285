package org.fqlspark.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories for fixtures that outlive one test (a JUnit {@code @TempDir} would not): removed at JVM exit. */
public final class TempDirs {

    private TempDirs() {
    }

    /** A new directory named from {@code prefix}, deleted with its contents when the JVM exits. */
    public static Path create(String prefix) {
        try {
            Path p = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(p)));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code p} and everything below it, as far as it can. */
    public static void deleteQuietly(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }
}
