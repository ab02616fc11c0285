package org.fqlspark.train;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.eval.TrainingEvaluation;
import org.fqlspark.io.Lease;
import org.fqlspark.run.CheckpointFinder;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.run.RunDirectory.RunDirectoryException;
import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.train.online.OnlinePhase;
import org.fqlspark.train.online.OnlineWork;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.TrainingState;

/**
 * Where a training invocation starts, resolved once before any round: a new run (the directory created, its
 * {@code config.json} and provenance written, the initial state drawn) or a resumed one (every setting checked against
 * {@link RunConfig}, the newest intact checkpoint loaded, the online phase's saved state parsed). Everything a bad
 * {@code --data}, {@code --eval-env} or {@code --env} can get wrong fails here, before the directory gets anything.
 *
 * @param dataset        the dataset, its manifest and the manifest's SHA-256
 * @param provenance     what {@code provenance.json} recorded for this invocation (checkpoints carry it)
 * @param state          the state the first round starts from
 * @param step           its step
 * @param lastCheckpoint the checkpoint it was read from (null: a fresh start)
 * @param savedOnline    the online phase as that checkpoint saved it (null: none yet)
 * @param evaluation     the periodic evaluation (null without {@code --eval-every})
 * @param envSide        the online phase's environment side (null without an online phase)
 */
record RunStart(DatasetRef dataset, Map<String, String> provenance, TrainingState state, long step, String lastCheckpoint,
        OnlinePhase.Saved savedOnline, TrainingEvaluation evaluation, OnlineWork.EnvSide envSide) {

    /** The dataset a run trains on. */
    record DatasetRef(Path dir, DatasetManifest manifest, String manifestSha) {
        int obsDim() {
            return manifest.obsDim();
        }

        int actionDim() {
            return manifest.actionDim();
        }

        long transitions() {
            return manifest.counts().transitions();
        }

        RunConfig.Dataset recorded() {
            return new RunConfig.Dataset(dir.toString(), manifestSha, transitions(), obsDim(), actionDim());
        }
    }

    static RunStart resolve(SparkSession spark, TrainOptions options, FqlConfig config, RunDirectory dir, Lease lease,
            PrintStream log) throws IOException {
        if (!options.resume() && dir.existsNonEmpty()) {
            throw new RunDirectoryException("run directory " + dir.root() + " already exists and is not empty; "
                    + "pass --resume to continue that run, or choose a new --run-dir");
        }
        if (options.resume() && !RunConfig.existsIn(dir)) {
            throw new RunDirectoryException("nothing to resume in " + dir.root() + ": it has no "
                    + RunDirectory.CONFIG + " (start without --resume)");
        }
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        DatasetRef data = dataset(options, hadoop);
        float rewardShift = rewardShift(options, data);
        TrainingEvaluation evaluation = null;
        if (options.evalEvery() > 0) {   // a bad --eval-env fails here, before the run directory gets anything
            evaluation = TrainingEvaluation.prepare(spark, options.evalEnv(), options.evalEpisodes(), 0, data.obsDim(),
                    data.actionDim(), options.backend());
        }
        OnlineWork.EnvSide envSide = null;
        TrainOptions.Online online = options.online();
        if (online.enabled()) {   // a bad --env fails here too, before anything is written
            try {
                TrainingEvaluation.prepare(spark, online.env(), 1, 0, data.obsDim(), data.actionDim(), options.backend());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().replace("--eval-env", "--env"), e);
            }
            envSide = new OnlineWork.EnvSide(online.env(), online.mode(), online.actors(), online.refreshEvery(),
                    rewardShift, online.capacity(data.transitions()), data.transitions());
        }
        Map<String, String> provenance = Provenance.collect(spark, options, data.dir().toString(), data.manifest(),
                data.manifestSha());
        RunConfig recorded = RunConfig.of(config, options, data.recorded());
        if (!options.resume()) {
            dir.create();
            recorded.write(dir);
            RunStart fresh = new RunStart(data, provenance, initialState(config, data, options.seed()), 0, null, null, evaluation,
                    envSide);
            fresh.writeProvenance(dir, false);
            return fresh;
        }

        RunConfig saved = RunConfig.read(dir);
        checkResumable(saved, recorded, dir, options);
        dir.deleteStaleTemporaries();
        Optional<CheckpointFinder.Found> latest = dir.latestCheckpoint(log);
        TrainingState state;
        String lastCheckpoint = null;
        OnlinePhase.Saved savedOnline = null;
        if (latest.isPresent()) {
            Checkpoint cp = latest.get().checkpoint();
            lastCheckpoint = latest.get().path().toString();
            if (cp.obsDim() != data.obsDim() || cp.actionDim() != data.actionDim() || cp.seed() != options.seed()
                    || !RunDirectory.JSON.valueToTree(cp.config()).equals(RunDirectory.JSON.valueToTree(config))) {
                throw new RunDirectoryException(latest.get().path() + " does not belong to this run (config, seed or dimensions differ)");
            }
            state = TrainingState.of(cp.state());
            if (options.workers() != saved.train().workers() && state.step() != saved.train().steps()) {
                throw new RunDirectoryException("cannot resume " + dir.root() + " with workers " + options.workers()
                        + ": the run was started with " + saved.train().workers() + " and is at step " + state.step() + " of "
                        + saved.train().steps() + " (W may change only once a run has finished, e.g. to add an online phase; "
                        + "pass the same value, or start a new --run-dir)");
            }
            String onlineJson = cp.provenance().get(OnlinePhase.CHECKPOINT_KEY);
            if (onlineJson != null) {
                savedOnline = OnlinePhase.parse(onlineJson, lastCheckpoint);
                checkOnlineResumable(savedOnline, lastCheckpoint, options.online(), envSide, dir);
                long began = savedOnline.offlineSteps() != null ? savedOnline.offlineSteps() : saved.train().steps();
                if (options.steps() != began) {
                    throw new RunDirectoryException("cannot resume " + dir.root() + " with --steps " + options.steps() + ": "
                            + lastCheckpoint + " is in the online phase, which began after " + began + " offline steps; the "
                            + "offline budget cannot change once the online phase has begun (pass --steps " + began
                            + ", or leave --steps and --samples out)");
                }
            }
            log.printf("fql train: resuming %s from %s (step %d)%n", dir.root(), lastCheckpoint, state.step());
        } else {
            if (options.workers() != saved.train().workers()) {
                throw new RunDirectoryException("cannot resume " + dir.root() + " with workers " + options.workers()
                        + ": the run was started with " + saved.train().workers()
                        + " (pass the same value, or start a new --run-dir)");
            }
            state = initialState(config, data, options.seed());
            log.printf("fql train: %s has no complete checkpoint; starting it again from step 0%n", dir.root());
        }
        RunStart resumed = new RunStart(data, provenance, state, state.step(), lastCheckpoint, savedOnline, evaluation, envSide);
        resumed.writeProvenance(dir, true);
        // A finished offline run extended with an online phase, or its budget grown: config.json records what it now
        // trains with.
        RunConfig.Train ours = recorded.train();
        if (!RunDirectory.JSON.valueToTree(ours.online()).equals(RunDirectory.JSON.valueToTree(saved.train().online()))
                || ours.workers() != saved.train().workers()) {
            lease.check();
            RunConfig.Train t = saved.train();
            saved.withTrain(new RunConfig.Train(t.data(), t.runDir(), ours.workers(), t.averagingFrequency(), t.steps(),
                    t.samples(), t.preset(), t.overrides(), t.seed(), t.checkpointEvery(), t.threadsPerWorker(),
                    t.aggregationDepth(), t.keepCheckpoints(), t.evalEvery(), t.evalEpisodes(), t.evalEnv(), ours.online(),
                    t.averaging())).write(dir);
        }
        return resumed;
    }

    /**
     * Writes this invocation's provenance ({@link #provenance} as it is now): {@code provenance.json} for a new run,
     * {@code provenance-resume-step-N.json}, with the step, for a resumed one. Written again once the workers have said
     * which device they train on.
     */
    void writeProvenance(RunDirectory dir, boolean resumed) throws IOException {
        if (!resumed) {
            dir.writeJson(RunDirectory.PROVENANCE, provenance);
            return;
        }
        Map<String, String> p = new LinkedHashMap<>(provenance);
        p.put("resumed_from_step", Long.toString(step));
        dir.writeJson("provenance-resume-step-" + step + ".json", p);
    }

    private static DatasetRef dataset(TrainOptions options, Configuration hadoop) throws IOException {
        Path given = new Path(options.dataPath());
        FileSystem fs = given.getFileSystem(hadoop);
        Path dir = fs.makeQualified(given);
        DatasetManifest manifest = DatasetManifest.read(fs, dir);
        String sha = Provenance.sha256(org.fqlspark.io.HadoopFiles.readBounded(fs, new Path(dir, DatasetSchema.MANIFEST_FILE),
                DatasetSchema.MAX_MANIFEST_BYTES, "a dataset manifest"));
        if (options.workers() > manifest.counts().transitions()) {
            throw new IllegalArgumentException("--workers " + options.workers() + " is more than the dataset's "
                    + manifest.counts().transitions() + " transitions");
        }
        return new DatasetRef(dir, manifest, sha);
    }

    /**
     * The reward shift of the online phase: the dataset's own, as its manifest records it, so that online rewards are
     * on the scale of the offline ones. A preset made for data shifted otherwise (a D4RL antmaze preset on unshifted
     * data, another task's preset on shifted data) is refused.
     */
    private static float rewardShift(TrainOptions options, DatasetRef data) {
        float shift = data.manifest().rewardShift();
        Float expected = org.fqlspark.agent.FqlPresets.dataRewardShift(options.preset());
        if (expected != null && expected != shift) {
            throw new IllegalArgumentException("--preset " + options.preset() + " is for data whose rewards are shifted by "
                    + expected + ", but " + new Path(data.dir(), DatasetSchema.MANIFEST_FILE) + " records source.details."
                    + DatasetManifest.REWARD_SHIFT + " " + (data.manifest().source().details().containsKey(DatasetManifest.REWARD_SHIFT)
                            ? shift : "(none, i.e. 0)") + "; the online phase would shift its rewards otherwise than the "
                    + "data's. Ingest the data as the preset's task has it, or train with --preset default and the task's "
                    + "hyper-parameters as flags");
        }
        return shift;
    }

    /** A resume must train the same model on the same data with the same split: anything else is refused. */
    private static void checkResumable(RunConfig saved, RunConfig ours, RunDirectory dir, TrainOptions options) {
        JsonNode savedConfig = RunDirectory.JSON.valueToTree(saved.fqlConfig());
        JsonNode ourConfig = RunDirectory.JSON.valueToTree(ours.fqlConfig());
        if (!ourConfig.equals(savedConfig)) {
            throw new RunDirectoryException("cannot resume " + dir.root() + " with a different FQL config: it was "
                    + savedConfig + ", this command resolves to " + ourConfig);
        }
        mustMatch(dir, "averaging_frequency", saved.train().averagingFrequency(), options.averagingFrequency());
        mustMatch(dir, "seed", saved.train().seed(), options.seed());
        RunConfig.Dataset then = saved.dataset();
        RunConfig.Dataset now = ours.dataset();
        if (!now.manifestSha256().equals(then.manifestSha256())) {
            throw new RunDirectoryException("cannot resume " + dir.root() + " on a different dataset: its manifest "
                    + "SHA-256 was " + then.manifestSha256() + ", " + options.dataPath() + " has " + now.manifestSha256());
        }
        if (then.obsDim() != now.obsDim() || then.actionDim() != now.actionDim()) {
            throw new RunDirectoryException("cannot resume " + dir.root() + ": dataset dimensions changed");
        }
    }

    private static void mustMatch(RunDirectory dir, String key, long theirs, long ours) {
        if (theirs != ours) {
            throw new RunDirectoryException("cannot resume " + dir.root() + " with " + key.replace('_', '-') + " "
                    + ours + ": the run was started with " + theirs + " (pass the same value, or start a new --run-dir)");
        }
    }

    /** A resumed online phase must keep its environment and how it collects; its step budget may grow. */
    private static void checkOnlineResumable(OnlinePhase.Saved saved, String where, TrainOptions.Online o,
            OnlineWork.EnvSide envSide, RunDirectory dir) {
        if (!o.enabled()) {
            throw new RunDirectoryException("cannot resume " + dir.root() + " without its online phase: " + where
                    + " is in the online phase in " + saved.env() + " (pass --online-steps and --env, or resume without "
                    + "changing them)");
        }
        if (!saved.env().equals(o.env()) || !saved.mode().equals(o.mode()) || saved.actors() != o.actors()
                || saved.refreshEvery() != o.refreshEvery() || saved.capacity() != envSide.capacity()) {
            throw new RunDirectoryException("cannot resume " + dir.root() + "'s online phase with different "
                    + "settings: it ran in " + saved.env() + ", mode " + saved.mode() + ", E=" + saved.actors() + ", R="
                    + saved.refreshEvery() + ", capacity " + saved.capacity() + "; this command asks for " + o.env() + ", mode "
                    + o.mode() + ", E=" + o.actors() + ", R=" + o.refreshEvery() + ", capacity " + envSide.capacity());
        }
    }

    private static TrainingState initialState(FqlConfig config, DatasetRef data, long seed) {
        // Plain Java tensors: the driver never initialises ND4J (no GPU, no CUDA backend needed here); the initial state
        // is the same bits on every backend (it is drawn in Java and uploaded).
        return TrainingState.of(new FqlAgent(config, data.obsDim(), data.actionDim(), Seeds.workerNoiseSeed(seed, 0),
                new JavaTensorOps()).state());
    }
}
