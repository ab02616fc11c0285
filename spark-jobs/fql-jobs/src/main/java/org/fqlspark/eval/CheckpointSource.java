package org.fqlspark.eval;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import org.fqlspark.agent.Checkpoint;

/**
 * Finds and reads the checkpoint that {@code --checkpoint} names, on any Hadoop file system (local paths, HDFS, S3A).
 *
 * <p>A file is read as it is. A directory (a training run directory) is searched, itself and its {@code checkpoints/}
 * folder, not deeper, for files that start with the checkpoint magic {@code FQLCKPT}; names starting with {@code .} or
 * {@code _} (temporaries of an atomic save, Hadoop markers) are skipped. The one with the highest training step in
 * its header wins; ties go to the newest modification time, then to the later name. So the rule does not depend on
 * how the trainer names its files ({@code fql train} writes {@code <run>/checkpoints/step-<12 digits>.fqlckpt}).
 * As in {@code fql train --resume}, a newest checkpoint that does not read back intact (SHA-256) is skipped, with a
 * note in {@link Loaded#skipped()}, for the next newest.
 */
public final class CheckpointSource {

    private static final byte[] MAGIC = "FQLCKPT\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEADER_BYTES = 16 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The checkpoint chosen, its bytes (to broadcast), the parsed checkpoint (for the driver's checks), and why newer
     * checkpoints of a run directory were passed over (empty for a file).
     */
    public record Loaded(String path, byte[] bytes, Checkpoint checkpoint, List<String> skipped) {
        public Loaded {
            skipped = List.copyOf(skipped);
        }
    }

    private CheckpointSource() {
    }

    public static Loaded load(String location, Configuration hadoop) {
        if (location == null || location.isBlank()) throw new EvalInputException("--checkpoint is missing");
        Path path = new Path(location);
        try {
            FileSystem fs = path.getFileSystem(hadoop);
            FileStatus status;
            try {
                status = fs.getFileStatus(path);
            } catch (FileNotFoundException e) {
                throw new EvalInputException("--checkpoint " + location + ": no such file or directory");
            }
            if (!status.isDirectory()) return read(fs, status.getPath(), List.of());
            List<Candidate> candidates = candidatesIn(fs, status.getPath(), location);
            List<String> skipped = new ArrayList<>();
            EvalInputException newestFailure = null;
            for (Candidate candidate : candidates) {
                try {
                    return read(fs, candidate.path(), skipped);
                } catch (EvalInputException e) {
                    if (newestFailure == null) newestFailure = e;
                    skipped.add(e.getMessage());
                }
            }
            throw newestFailure;
        } catch (IOException e) {
            throw new EvalInputException("--checkpoint " + location + ": cannot read it: " + e.getMessage(), e);
        }
    }

    private static Loaded read(FileSystem fs, Path file, List<String> skipped) throws IOException {
        String name = file.toString();
        long size = fs.getFileStatus(file).getLen();
        try (InputStream in = fs.open(file)) {
            byte[] bytes = Checkpoint.readBytes(in, size, name);   // magic and size checked before reading it all
            return new Loaded(name, bytes, Checkpoint.fromBytes(bytes, name), skipped);
        } catch (RuntimeException e) {
            throw new EvalInputException("--checkpoint: " + e.getMessage(), e);
        }
    }

    private record Candidate(Path path, long step, long modified) {
    }

    /** Checkpoint files of a run directory, newest first. */
    private static List<Candidate> candidatesIn(FileSystem fs, Path dir, String location) throws IOException {
        List<Candidate> candidates = new ArrayList<>();
        collect(fs, dir, candidates);
        Path nested = new Path(dir, "checkpoints");
        if (fs.exists(nested) && fs.getFileStatus(nested).isDirectory()) collect(fs, nested, candidates);
        if (candidates.isEmpty()) {
            throw new EvalInputException("--checkpoint " + location
                    + ": a directory without checkpoint files (none starting with FQLCKPT in it or in its checkpoints/ folder)");
        }
        candidates.sort(Comparator.comparingLong(Candidate::step).thenComparingLong(Candidate::modified)
                .thenComparing(c -> c.path().getName()).reversed());
        return candidates;
    }

    private static void collect(FileSystem fs, Path dir, List<Candidate> out) throws IOException {
        for (FileStatus status : fs.listStatus(dir)) {
            String name = status.getPath().getName();
            if (!status.isFile() || name.startsWith(".") || name.startsWith("_")) continue;
            Long step = headerStep(fs, status.getPath());
            if (step != null) out.add(new Candidate(status.getPath(), step, status.getModificationTime()));
        }
    }

    /** The training step from a checkpoint's header, or null if the file is not a readable checkpoint. */
    static Long headerStep(FileSystem fs, Path file) {
        try (InputStream in = fs.open(file)) {
            byte[] start = in.readNBytes(MAGIC.length + 8);
            if (start.length < MAGIC.length + 8 || !Arrays.equals(Arrays.copyOf(start, MAGIC.length), MAGIC)) return null;
            int headerLength = ByteBuffer.wrap(start, MAGIC.length + 4, 4).getInt();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) return null;
            byte[] header = in.readNBytes(headerLength);
            if (header.length < headerLength) return null;
            JsonNode step = JSON.readTree(header).get("step");
            return step != null && step.canConvertToLong() ? step.longValue() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
