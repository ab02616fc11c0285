package org.fqlspark.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.io.HadoopFiles;

/**
 * A run directory on any Hadoop file system, and the only code that writes into it. Layout:
 * <pre>
 *   config.json                     resolved FQL config and the run's options (written once, checked on resume)
 *   provenance.json                 git commit, dataset, versions, seed (one per start: provenance-resume-&lt;step&gt;.json)
 *   checkpoints/step-&lt;12 digits&gt;.fqlckpt   the agent's Checkpoint format; the last few kept
 *   metrics.csv                     one row per round, appended as the run goes
 *   metrics.parquet/                the same rows, rewritten at every checkpoint and at the end
 *   learning_curves.png             at the end
 *   result.json                     summary at the end
 * </pre>
 * Every file is written to a hidden temporary sibling and renamed into place, so a reader never sees half a file
 * and a crash never replaces a complete checkpoint with a partial one.
 */
public final class RunDirectory {

    public static final String CONFIG = "config.json";
    public static final String PROVENANCE = "provenance.json";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String METRICS_CSV = "metrics.csv";
    public static final String METRICS_PARQUET = "metrics.parquet";
    public static final String CURVES = "learning_curves.png";
    public static final String RESULT = "result.json";
    public static final String CHECKPOINT_SUFFIX = ".fqlckpt";
    private static final Pattern CHECKPOINT_NAME = Pattern.compile("step-(\\d{12})\\.fqlckpt");
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A checkpoint file and its step. */
    public record CheckpointFile(Path path, long step) {
    }

    /** A run directory that is not there to resume, or is there and must not be overwritten. */
    public static final class RunDirectoryException extends IllegalArgumentException implements org.fqlspark.launch.BadInput {
        public RunDirectoryException(String message) {
            super(message);
        }
    }

    private final FileSystem fs;
    private final Path root;

    private RunDirectory(FileSystem fs, Path root) {
        this.fs = fs;
        this.root = root;
    }

    public static RunDirectory at(String runDir, Configuration conf) {
        try {
            Path p = new Path(runDir);
            FileSystem fs = p.getFileSystem(conf);
            if (fs instanceof LocalFileSystem local) {
                fs = local.getRawFileSystem();   // no .crc side files; supports append
            }
            return new RunDirectory(fs, fs.makeQualified(p));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open run directory " + runDir + ": " + e.getMessage(), e);
        }
    }

    public Path root() {
        return root;
    }

    public FileSystem fs() {
        return fs;
    }

    public Path file(String name) {
        return new Path(root, name);
    }

    /** True when the directory holds anything but the driver's lease. */
    public boolean existsNonEmpty() throws IOException {
        if (!fs.exists(root)) return false;
        if (!fs.getFileStatus(root).isDirectory()) return true;
        for (FileStatus s : fs.listStatus(root)) {
            if (!s.getPath().getName().equals(org.fqlspark.io.Lease.FILE)) return true;
        }
        return false;
    }

    public void create() throws IOException {
        fs.mkdirs(new Path(root, CHECKPOINTS));
    }

    public boolean exists(String name) throws IOException {
        return fs.exists(file(name));
    }

    // ------------------------------------------------------------------ atomic files

    /** Replaces {@code target} in one atomic step on every kind of store ({@link HadoopFiles#replaceAtomically}). */
    public void writeAtomically(Path target, byte[] bytes) throws IOException {
        HadoopFiles.replaceAtomically(fs, target, bytes);
    }

    public void writeJson(String name, Object value) throws IOException {
        writeAtomically(file(name), JSON.writeValueAsBytes(value));
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> readJson(String name) throws IOException {
        try (InputStream in = fs.open(file(name))) {
            return JSON.readValue(in, Map.class);
        }
    }

    public byte[] readBytes(Path p) throws IOException {
        return readBytes(fs, p);
    }

    public static byte[] readBytes(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    // ------------------------------------------------------------------ checkpoints

    public static String checkpointName(long step) {
        return String.format("step-%012d%s", step, CHECKPOINT_SUFFIX);
    }

    /**
     * Writes the checkpoint atomically, then deletes older ones beyond the newest {@code keep} intact ones (0 = keep
     * all). A file is deleted only when {@code keep} intact checkpoints newer than it exist, so a corrupt newer file
     * can never push the newest intact checkpoint out.
     */
    public Path saveCheckpoint(Checkpoint checkpoint, int keep) throws IOException {
        Path target = new Path(new Path(root, CHECKPOINTS), checkpointName(checkpoint.state().step()));
        writeAtomically(target, checkpoint.toBytes());
        intact.add(target);
        if (keep > 0) {
            int newerIntact = 0;
            for (CheckpointFile f : listCheckpoints()) {
                if (newerIntact >= keep) {
                    fs.delete(f.path(), false);
                } else if (isIntact(f.path())) {
                    newerIntact++;
                }
            }
        }
        return target;
    }

    /** Checkpoints this process wrote or verified; each file is read to check it at most once. */
    private final java.util.Set<Path> intact = new java.util.HashSet<>();

    private boolean isIntact(Path p) {
        if (intact.contains(p)) return true;
        try {
            readCheckpoint(p);
            intact.add(p);
            return true;
        } catch (IOException | Checkpoint.CheckpointException e) {
            return false;
        }
    }

    /** Reads a checkpoint file: magic and size are checked before the whole file is read, the digest before parsing. */
    public Checkpoint readCheckpoint(Path p) throws IOException {
        return CheckpointFinder.read(fs, p).checkpoint();
    }

    /**
     * The checkpoint files this project wrote here ({@code checkpoints/step-<12 digits>.fqlckpt}), newest first by the
     * step in their names: what retention may delete. Temporary files of an interrupted write are not listed. Which
     * checkpoint to resume from is {@link #latestCheckpoint}'s question, not this list's.
     */
    public List<CheckpointFile> listCheckpoints() throws IOException {
        Path dir = new Path(root, CHECKPOINTS);
        List<CheckpointFile> out = new ArrayList<>();
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus s : fs.listStatus(dir)) {
            Matcher m = CHECKPOINT_NAME.matcher(s.getPath().getName());
            if (s.isFile() && m.matches()) {
                out.add(new CheckpointFile(s.getPath(), Long.parseLong(m.group(1))));
            }
        }
        out.sort(Comparator.comparingLong(CheckpointFile::step).reversed());
        return out;
    }

    /**
     * The newest checkpoint that reads back intact, by {@link CheckpointFinder}'s rule (the one evaluation, export and
     * act use too); any newer one that cannot be read, whatever the reason, is reported on {@code log} and skipped
     * (and kept: it is not this method's to delete).
     */
    public Optional<CheckpointFinder.Found> latestCheckpoint(java.io.PrintStream log) throws IOException {
        List<String> skipped = new ArrayList<>();
        Optional<CheckpointFinder.Found> found = CheckpointFinder.newest(fs, root, skipped);
        for (String s : skipped) {
            log.println("fql train: skipping unreadable checkpoint " + s);
        }
        found.ifPresent(f -> intact.add(f.path()));
        return found;
    }

    /** Leftover temporary files of writes a crash interrupted. */
    public void deleteStaleTemporaries() throws IOException {
        for (Path dir : new Path[] {root, new Path(root, CHECKPOINTS)}) {
            if (!fs.exists(dir)) {
                continue;
            }
            for (FileStatus s : fs.listStatus(dir)) {
                String n = s.getPath().getName();
                if (n.startsWith(".") && n.contains(".tmp-")) {
                    fs.delete(s.getPath(), true);
                }
            }
        }
    }

    public static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
