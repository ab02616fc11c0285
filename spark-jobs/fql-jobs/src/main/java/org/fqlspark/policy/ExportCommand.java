package org.fqlspark.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.eval.CheckpointSource;
import org.fqlspark.eval.Policy;

/**
 * {@code fql export}: a checkpoint's policy as ONNX, or all its weights as NPZ ({@link PolicyExport}). The file is
 * written to a hidden temporary sibling and renamed into place; an existing file is replaced only with {@code --overwrite}.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a checkpoint for use outside this project.",
                "onnx: the one-step policy (or, with --policy flow-bc, the BC flow with its Euler steps unrolled); inputs "
                        + "'observations' [batch, obs_dim] and 'noise' [batch, action_dim] (float32, noise ~ N(0, I)), output "
                        + "'actions' [batch, action_dim] clipped to [-1, 1]; ONNX opset " + OnnxGraph.OPSET + ", IR version "
                        + OnnxGraph.IR_VERSION + ". A QC-FQL checkpoint (horizon_length h > 1) takes and emits chunks: noise and "
                        + "actions are [batch, h x action_dim], step-major, and the metadata holds horizon_length.",
                "npz: every network's weights (critic, target_critic, actor_bc_flow, actor_onestep_flow) under the official "
                        + "code's flax names, kernels [in, out]; numpy.load reads it; a QC-FQL checkpoint adds horizon_length."})
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "checkpoint file, or a training run directory (its checkpoint with the highest step); any Hadoop path")
    String checkpoint;

    @Option(names = "--format", required = true, paramLabel = "onnx|npz", description = "onnx or npz")
    String format;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "file to write (must not exist unless --overwrite)")
    String output;

    @Option(names = "--policy", paramLabel = "one-step|flow-bc", description = "onnx only: which policy (default: one-step)")
    String policy;

    @Option(names = "--overwrite", description = "replace an existing file at --output")
    boolean overwrite;

    @Override
    public Integer call() {
        String chosenFormat = format.trim().toLowerCase(Locale.ROOT);
        if (!chosenFormat.equals("onnx") && !chosenFormat.equals("npz")) {
            throw new PolicyInputException("--format must be 'onnx' or 'npz', was '" + format + "'");
        }
        if (chosenFormat.equals("npz") && policy != null) {
            throw new PolicyInputException("--policy applies to --format onnx only; the npz holds every network");
        }
        Policy chosenPolicy = policy == null ? Policy.ONE_STEP : Policy.parse(policy);
        Configuration hadoop = new Configuration();
        Path target = new Path(output);
        FileSystem fs = fileSystem(target, hadoop);
        refuseExisting(fs, target);
        CheckpointSource.Loaded loaded = CheckpointSource.load(checkpoint, hadoop);
        for (String skipped : loaded.skipped()) System.err.println("export: skipping unreadable checkpoint: " + skipped);
        Checkpoint c = loaded.checkpoint();
        byte[] bytes = chosenFormat.equals("onnx") ? PolicyExport.onnx(c, chosenPolicy) : PolicyExport.npz(c);
        write(fs, target, bytes);
        System.out.printf("export: %s%s of %s (step %d, obs %d, action %d) written to %s (%d bytes)%n", chosenFormat,
                chosenFormat.equals("onnx") ? " " + chosenPolicy.flag() + " policy" : " weights", loaded.path(), c.state().step(),
                c.obsDim(), c.actionDim(), fs.makeQualified(target), bytes.length);
        return 0;
    }

    /**
     * The project's overwrite rule for a single file: a new path is written; an existing one is replaced only with
     * --overwrite and only when it is a model or weights file this command exported; never a directory.
     */
    private void refuseExisting(FileSystem fs, Path target) {
        try {
            if (!fs.exists(target)) return;
            FileStatus status = fs.getFileStatus(target);
            if (status.isDirectory()) {
                throw new PolicyInputException("--output " + target + " is a directory; give a file name");
            }
            if (!overwrite) throw new PolicyInputException("--output " + target + " already exists; pass --overwrite to replace it");
            byte[] head;
            byte[] tail;
            try (FSDataInputStream in = fs.open(target)) {
                head = in.readNBytes(64);
                long from = Math.max(0, status.getLen() - 1024);
                in.seek(from);
                tail = in.readNBytes(1024);
            }
            if (!PolicyExport.isOurExport(head, tail)) {
                throw new PolicyInputException("--output " + target + " is not a file fql export wrote; refused, nothing was touched");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--output " + target + ": " + e.getMessage(), e);
        }
    }

    private void write(FileSystem fs, Path target, byte[] bytes) {
        Path qualified = fs.makeQualified(target);
        try {
            fs.mkdirs(qualified.getParent());
            refuseExisting(fs, qualified);
            HadoopFiles.replaceAtomically(fs, qualified, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("--output " + target + ": " + e.getMessage(), e);
        }
    }

    private static FileSystem fileSystem(Path path, Configuration hadoop) {
        try {
            return path.getFileSystem(hadoop);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }
}
