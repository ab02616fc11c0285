package org.fqlspark.eval;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.run.CheckpointFinder;

/**
 * Finds and reads the checkpoint that {@code --checkpoint} names, on any Hadoop file system (local paths, HDFS, S3A),
 * for {@code evaluate}, {@code export} and {@code act}.
 *
 * <p>A file is read as it is. In a directory (a training run directory) the newest checkpoint is chosen by
 * {@link CheckpointFinder}, the rule {@code fql train --resume} uses too: a newest checkpoint that does not read back
 * intact (SHA-256) is skipped, with a note in {@link Loaded#skipped()}, for the next newest. Errors are bad input
 * naming {@code --checkpoint}.
 */
public final class CheckpointSource {

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
            if (!status.isDirectory()) {
                try {
                    return loaded(CheckpointFinder.read(fs, status.getPath()), List.of());
                } catch (RuntimeException e) {
                    throw new EvalInputException("--checkpoint: " + e.getMessage(), e);
                }
            }
            List<CheckpointFinder.Candidate> candidates = CheckpointFinder.candidates(fs, status.getPath());
            if (candidates.isEmpty()) {
                throw new EvalInputException("--checkpoint " + location
                        + ": a directory without checkpoint files (none starting with FQLCKPT in it or in its checkpoints/ folder)");
            }
            List<String> skipped = new ArrayList<>();
            Optional<CheckpointFinder.Found> found = CheckpointFinder.newest(fs, status.getPath(), skipped);
            if (found.isEmpty()) {   // the newest candidate's failure says most about the run
                throw new EvalInputException("--checkpoint: " + skipped.get(0));
            }
            return loaded(found.get(), skipped);
        } catch (IOException e) {
            throw new EvalInputException("--checkpoint " + location + ": cannot read it: " + e.getMessage(), e);
        }
    }

    private static Loaded loaded(CheckpointFinder.Found found, List<String> skipped) {
        return new Loaded(found.path().toString(), found.bytes(), found.checkpoint(), skipped);
    }
}
