package org.fqlspark.io;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.data.DatasetException;

/**
 * The one rule for every command that writes an output (and for {@code --overwrite}): an output path is written
 * when it does not exist or is an empty directory; it is replaced only with {@code --overwrite} and only when it is
 * recognisably this project's own output of that kind (its marker file is there and is ours, and every entry in it
 * is one the command writes). It is refused, with nothing touched, when it holds anything else, or when it is, or
 * contains, a path the command must not lose: its input, the checkpoint, the run directory.
 */
public final class OutputGuard {

    /** The largest marker file read to recognise an output. */
    private static final int MARKER_LIMIT = 16 << 20;

    /**
     * What one command writes.
     *
     * @param label        how messages name it ("dataset", "evaluation")
     * @param marker       the file whose presence marks a complete output of this kind
     * @param ownEntry     the top-level names the command writes (hidden names, starting with '.' or '_', always count)
     * @param markerIsOurs true when the marker's bytes are this project's (it parses, it has our keys)
     */
    public record Kind(String label, String marker, Predicate<String> ownEntry, Predicate<byte[]> markerIsOurs) {
        public Kind {
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(marker, "marker");
            Objects.requireNonNull(ownEntry, "ownEntry");
            Objects.requireNonNull(markerIsOurs, "markerIsOurs");
        }
    }

    /** A path the output must not be, nor contain: {@code role} names it in messages ("the input"). */
    public record Keep(String role, String location) {
    }

    /** Refused: the message names the path, the flag and why; nothing was touched. */
    public static final class OutputRefusedException extends DatasetException {
        public OutputRefusedException(String path, String flag, String detail) {
            super(null, flag + " " + path + ": " + detail, path, flag);
        }
    }

    private OutputGuard() {
    }

    /**
     * Checks {@code target} before anything is written.
     *
     * @param flag the option that named the output ("--output")
     * @throws OutputRefusedException when the output may not be written or replaced
     */
    public static void check(FileSystem fs, Path target, String flag, Kind kind, boolean overwrite, List<Keep> keep) {
        checkKeep(fs, target, flag, keep);
        checkContent(fs, target, flag, kind, overwrite);
    }

    /**
     * The half of {@link #check} about the paths to keep: refused when {@code target} is, or contains, one of them.
     *
     * @throws OutputRefusedException naming the path kept
     */
    public static void checkKeep(FileSystem fs, Path target, String flag, List<Keep> keep) {
        String where = target.toString();
        for (Keep k : keep) {
            if (k == null || k.location() == null) continue;
            Path kept;
            try {
                kept = new Path(k.location());
                kept = kept.getFileSystem(fs.getConf()).makeQualified(kept);
            } catch (IOException | IllegalArgumentException e) {
                continue;   // a location that does not resolve cannot be inside the output
            }
            if (sameOrInside(kept, target)) {
                throw new OutputRefusedException(where, flag, (samePath(kept, target) ? "is " : "contains ") + k.role()
                        + " (" + kept + "); refused, nothing was touched (choose another " + flag + ")");
            }
        }
    }

    private static void checkContent(FileSystem fs, Path target, String flag, Kind kind, boolean overwrite) {
        String where = target.toString();
        try {
            if (!fs.exists(target)) return;
            FileStatus status = fs.getFileStatus(target);
            if (!status.isDirectory()) {
                throw new OutputRefusedException(where, flag, "is an existing file, not a " + kind.label()
                        + " output directory; refused, nothing was touched");
            }
            FileStatus[] children = fs.listStatus(target);
            if (children.length == 0) return;
            if (!overwrite) {
                throw new OutputRefusedException(where, flag, "already exists; pass --overwrite to replace it");
            }
            List<String> foreign = new ArrayList<>();
            boolean marked = false;
            for (FileStatus c : children) {
                String name = c.getPath().getName();
                if (name.equals(kind.marker()) && c.isFile()) {
                    marked = markerIsOurs(fs, c, kind);
                } else if (!name.startsWith(".") && !name.startsWith("_") && !kind.ownEntry().test(name)) {
                    foreign.add(name);
                }
            }
            if (!marked) {
                throw new OutputRefusedException(where, flag, "is not recognisably a " + kind.label() + " output of "
                        + "this project (no " + kind.marker() + " of ours in it); refused, nothing was touched");
            }
            if (!foreign.isEmpty()) {
                foreign.sort(null);
                throw new OutputRefusedException(where, flag, "also holds " + String.join(", ", head(foreign))
                        + ", which this project did not write; refused, nothing was touched");
            }
        } catch (IOException e) {
            throw new OutputRefusedException(where, flag, "could not be checked (" + e.getMessage() + ")");
        }
    }

    private static boolean markerIsOurs(FileSystem fs, FileStatus marker, Kind kind) throws IOException {
        if (marker.getLen() > MARKER_LIMIT) return false;
        try (InputStream in = fs.open(marker.getPath())) {
            return kind.markerIsOurs().test(in.readNBytes(MARKER_LIMIT));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static List<String> head(List<String> names) {
        if (names.size() <= 5) return names;
        List<String> out = new ArrayList<>(names.subList(0, 5));
        out.add("and " + (names.size() - 5) + " more");
        return out;
    }

    /** True when {@code inner} is {@code outer} or lies under it (same file system). */
    public static boolean sameOrInside(Path inner, Path outer) {
        URI i = inner.toUri();
        URI o = outer.toUri();
        if (!Objects.equals(i.getScheme(), o.getScheme()) || !Objects.equals(i.getAuthority(), o.getAuthority())) {
            return false;
        }
        String ip = strip(i.getPath());
        String op = strip(o.getPath());
        return ip.equals(op) || op.equals("/") || ip.startsWith(op + "/");
    }

    private static boolean samePath(Path a, Path b) {
        return sameOrInside(a, b) && sameOrInside(b, a);
    }

    private static String strip(String p) {
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }
}
