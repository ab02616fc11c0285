package org.fqlspark.run;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.agent.Checkpoint;

/**
 * The one rule for "the newest checkpoint of a run directory", used by {@code train --resume}, {@code evaluate},
 * {@code export} and {@code act}:
 * <ul>
 *   <li>the candidates are the files in the directory itself and in its {@code checkpoints/} folder (not deeper), except
 *       names starting with {@code .} or {@code _} (temporaries of an atomic save, Hadoop markers);</li>
 *   <li>a candidate's step is the one its header records ({@link Checkpoint#headerStep}); a file whose header does not
 *       read is still a candidate when it carries the trainer's name ({@code step-<12 digits>.fqlckpt}), at the step
 *       of its name, so that a torn newest checkpoint is reported rather than silently passed over;</li>
 *   <li>the highest step wins, ties going to the newest modification time, then to the later name;</li>
 *   <li>a candidate that does not read back intact (size, SHA-256, parse) is skipped, with the reason, for the next.</li>
 * </ul>
 * The rule does not depend on how the files are named, so a directory of checkpoints copied by hand works too.
 */
public final class CheckpointFinder {

    private static final Pattern TRAINER_NAME = Pattern.compile("step-(\\d{12})\\.fqlckpt");

    /** A file that may hold a checkpoint and the step it claims. */
    public record Candidate(Path path, long step, long modified) {
    }

    /** The checkpoint chosen, and its bytes (to broadcast as they are). */
    public record Found(Path path, byte[] bytes, Checkpoint checkpoint) {
    }

    private CheckpointFinder() {
    }

    /** The candidates of {@code dir}, newest first (empty when there are none, or no such directory). */
    public static List<Candidate> candidates(FileSystem fs, Path dir) throws IOException {
        List<Candidate> out = new ArrayList<>();
        if (!fs.exists(dir) || !fs.getFileStatus(dir).isDirectory()) {
            return out;
        }
        collect(fs, dir, out);
        Path nested = new Path(dir, RunDirectory.CHECKPOINTS);
        if (fs.exists(nested) && fs.getFileStatus(nested).isDirectory()) {
            collect(fs, nested, out);
        }
        out.sort(Comparator.comparingLong(Candidate::step).thenComparingLong(Candidate::modified)
                .thenComparing(c -> c.path().getName()).reversed());
        return out;
    }

    /**
     * The newest candidate of {@code dir} that reads back intact, or empty when none does (or there are none); each
     * newer candidate passed over adds one line, "path: reason", to {@code skipped}.
     */
    public static Optional<Found> newest(FileSystem fs, Path dir, List<String> skipped) throws IOException {
        for (Candidate c : candidates(fs, dir)) {
            try {
                return Optional.of(read(fs, c.path()));
            } catch (IOException | RuntimeException e) {
                String why = String.valueOf(e.getMessage());   // the checkpoint reader's messages name the file
                skipped.add(why.contains(c.path().toString()) ? why : c.path() + ": " + why);
            }
        }
        return Optional.empty();
    }

    /** Reads one checkpoint file: magic and size are checked before the whole file is read, the digest before parsing. */
    public static Found read(FileSystem fs, Path file) throws IOException {
        long size = fs.getFileStatus(file).getLen();
        try (InputStream in = fs.open(file)) {
            byte[] bytes = Checkpoint.readBytes(in, size, file.toString());
            return new Found(file, bytes, Checkpoint.fromBytes(bytes, file.toString()));
        }
    }

    private static void collect(FileSystem fs, Path dir, List<Candidate> out) throws IOException {
        for (FileStatus status : fs.listStatus(dir)) {
            String name = status.getPath().getName();
            if (!status.isFile() || name.startsWith(".") || name.startsWith("_")) {
                continue;
            }
            OptionalLong step;
            try (InputStream in = fs.open(status.getPath())) {
                step = Checkpoint.headerStep(in);
            } catch (IOException e) {
                step = OptionalLong.empty();
            }
            Matcher m = TRAINER_NAME.matcher(name);
            if (step.isEmpty() && m.matches()) {
                step = OptionalLong.of(Long.parseLong(m.group(1)));
            }
            if (step.isPresent()) {
                out.add(new Candidate(status.getPath(), step.getAsLong(), status.getModificationTime()));
            }
        }
    }
}
