package org.fqlspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a local source file (OGBench {@code .npz}, D4RL {@code .hdf5}, Minari HDF5 or Minari dataset
 * directory) into transitions. The entry point of the format readers; {@link TransitionCleaner} comes next.
 */
public final class SourceReaders {

    private SourceReaders() {}

    /**
     * @param path a local file, or a Minari dataset directory (its {@code data/main_data.hdf5} is read)
     * @param format null to detect it (see {@link #detect})
     * @throws DatasetException for a missing or unreadable path, an undetectable format or bad content
     */
    public static SourceData read(Path path, DatasetFormat format, ReadOptions options) {
        Path file = resolveFile(path, format);
        DatasetFormat resolved = format != null ? format : detect(file);
        SourceInfo source = new SourceInfo(file.toAbsolutePath().normalize().toString(), resolved.cliName(), sha256(file),
                size(file), Map.of());
        return switch (resolved) {
            case NPZ -> NpzDatasetReader.read(file, options, source);
            case D4RL -> D4rlDatasetReader.read(file, options, source);
            case MINARI -> MinariDatasetReader.read(file, options, source);
        };
    }

    /** Reads and cleans in one go, without Spark: what a single-machine consumer of a source file needs. */
    public static TransitionCleaner.Result readClean(Path path, DatasetFormat format, ReadOptions options,
            boolean dropInvalid) {
        SourceData src = read(path, format, options);
        return TransitionCleaner.clean(src.data(), src.source().path(), src.locator(), dropInvalid);
    }

    /**
     * Finds the file to read: the path itself, or for a directory Minari's {@code data/main_data.hdf5} (or a
     * {@code main_data.hdf5} directly inside it).
     */
    public static Path resolveFile(Path path, DatasetFormat format) {
        String name = path.toString();
        if (!Files.exists(path)) {
            throw new DatasetException(name, null, "does not exist; expected a readable .npz or .hdf5 file "
                    + "or a Minari dataset directory");
        }
        if (Files.isDirectory(path)) {
            for (Path candidate : new Path[] {path.resolve("data").resolve("main_data.hdf5"),
                    path.resolve("main_data.hdf5")}) {
                if (Files.isRegularFile(candidate) && (format == null || format == DatasetFormat.MINARI)) {
                    return requireReadable(candidate);
                }
            }
            throw new DatasetException(name, null, "is a directory without data/main_data.hdf5; expected a file, "
                    + "or a Minari dataset directory");
        }
        return requireReadable(path);
    }

    private static Path requireReadable(Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new DatasetException(file.toString(), null, "is not a readable regular file");
        }
        return file;
    }

    /**
     * The format from the extension: {@code .npz} is OGBench; {@code .hdf5}/{@code .h5} is D4RL when the
     * root holds an {@code observations} dataset and Minari when it holds {@code episode_*} groups.
     */
    public static DatasetFormat detect(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".npz")) return DatasetFormat.NPZ;
        if (n.endsWith(".hdf5") || n.endsWith(".h5")) {
            try (HdfArchive h5 = HdfArchive.open(file)) {
                if (h5.has(h5.root(), "observations")) return DatasetFormat.D4RL;
                if (MinariDatasetReader.looksLikeMinari(h5)) return DatasetFormat.MINARI;
                throw new DatasetException(file.toString(), "observations", "is missing and there are no "
                        + "episode_* groups either; expected a D4RL file (root datasets observations, actions, ...) "
                        + "or a Minari file (episode_<id> groups)");
            } catch (DatasetException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new DatasetException(file.toString(), null, "is not a readable HDF5 file; it is truncated or "
                        + "corrupt (" + e.getMessage() + ")", e);
            }
        }
        throw new DatasetException(file.toString(), null, "has an extension that names no known format; expected "
                + ".npz, .hdf5 or .h5, or pass --format npz|d4rl|minari");
    }

    /** Hex SHA-256 of a file's bytes. */
    public static String sha256(Path file) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
        } catch (IOException e) {
            throw new DatasetException(file.toString(), null, "could not be read (" + e.getMessage() + ")", e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new DatasetException(file.toString(), null, "could not be read (" + e.getMessage() + ")", e);
        }
    }
}
