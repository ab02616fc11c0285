package org.fqlspark.policy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.eval.CheckpointSource;
import org.fqlspark.eval.Policy;
import org.fqlspark.tensor.Backends;

/**
 * A trained FQL policy as a spark.ml {@link Model}: {@link #transform} adds an {@code action} column
 * ({@code array<float>}, clipped to [−1, 1]) computed from an {@code observations} column ({@code array<float>} or
 * {@code array<double>} of the checkpoint's observation width).
 *
 * <p>Params: {@code inputCol} (default {@code observations}), {@code outputCol} ({@code action}), {@code policy}
 * ({@code one-step}: FQL's {@code clip(μ_ω(s, z))}, or {@code flow-bc}: the BC flow's Euler steps), {@code seedCol}
 * (optional, bigint or int: row r's noise z is {@code actionDim} draws of
 * {@code new java.util.SplittableRandom(seed_r).nextGaussian()}, so a row's noise does not depend on partitioning),
 * {@code seed} (without a seed column, each partition draws from a stream of this seed and its index: reproducible
 * only for the same partitioning), and {@code exact} (default off: ND4J/OpenBLAS, whose GEMM kernels round a row by
 * a few ulps differently depending on its place in the batch, under 1e-6; on: plain Java kernels that compute each
 * row alone, so with a seed column a row's action is bit-identical in any partitioning, at a speed cost given in
 * BENCHMARKS.md), and {@code backend} ({@code auto}, {@code cpu} or {@code opencl}, as {@code fql act --backend}: the
 * tensor backend of the executors; {@code exact} overrides it; not saved with the model, since it is where a model
 * runs, not what it is).
 *
 * <p><b>Action chunks.</b> A QC-FQL checkpoint ({@code horizon_length} h &gt; 1, docs/algorithm.md §11) emits h actions
 * per observation: the output column then holds the whole chunk, {@code h·A} values step-major (row noise is
 * {@code h·A} draws), and {@code firstActionCol} (default {@code first_action}; empty for none) is added with its
 * first A values, the action to play now; the same as Spark SQL's {@code slice(action, 1, A)}. With h = 1 the output
 * column is the action and {@code firstActionCol} adds nothing.
 *
 * <p>Zeppelin {@code %spark}:
 * <pre>
 * import org.fqlspark.policy.FqlPolicyModel
 * val model = FqlPolicyModel.fromCheckpoint(spark, "runs/medium").setPolicy("one-step").setSeedCol("seed")
 * model.transform(spark.read.parquet("states.parquet")).show()
 * model.write.overwrite().save("models/medium-policy")      // FqlPolicyModel.load("models/medium-policy")
 * </pre>
 * PySpark, through the JVM: see README "Use the policy".
 *
 * <p>Saved form ({@link #write}): a directory with {@code metadata.json} (class, uid, params), Spark's
 * {@code metadata/} (so the model can be a stage of a saved {@code PipelineModel}) and the checkpoint file it was
 * built from, byte for byte ({@code checkpoint.fqlckpt}, SHA-256 checked when loaded).
 */
public final class FqlPolicyModel extends Model<FqlPolicyModel> implements MLWritable {

    private static final long serialVersionUID = 1L;
    static final String METADATA = "metadata.json";
    static final String CHECKPOINT = "checkpoint.fqlckpt";
    /** The largest metadata.json read (1 MiB; this class writes under 1 KiB), checked before reading it. */
    static final int MAX_METADATA_BYTES = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String uid;
    private final byte[] checkpointBytes;
    private final String checkpointSource;
    private final transient Checkpoint checkpoint;
    private transient Broadcast<PolicyWeights> broadcast;

    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> seedCol;
    private final Param<String> policy;
    private final Param<String> firstActionCol;
    private final LongParam seed;
    private final BooleanParam exact;
    private final Param<String> backend;

    private FqlPolicyModel(String uid, byte[] checkpointBytes, String checkpointSource) {
        this.uid = uid;
        this.checkpointBytes = checkpointBytes;
        this.checkpointSource = checkpointSource;
        try {
            this.checkpoint = Checkpoint.fromBytes(checkpointBytes, checkpointSource);
        } catch (RuntimeException e) {
            throw new PolicyInputException(e.getMessage(), e);
        }
        inputCol = new Param<>(this, "inputCol", "observation column: array<float> or array<double> of the policy's observation width");
        outputCol = new Param<>(this, "outputCol", "action column to add: array<float>, clipped to [-1, 1]");
        seedCol = new Param<>(this, "seedCol", "optional bigint/int column seeding each row's noise; empty for none");
        policy = new Param<>(this, "policy", "one-step (FQL's policy) or flow-bc (the BC flow it distils)");
        firstActionCol = new Param<>(this, "firstActionCol", "with action chunks (horizon_length > 1): column to add with the "
                + "chunk's first action (array<float> of the per-step action width); empty for none; ignored without chunks");
        seed = new LongParam(this, "seed", "noise seed used when there is no seed column");
        exact = new BooleanParam(this, "exact", "compute each row independently of its batch (plain Java kernels): bit-identical "
                + "actions in any partitioning, slower; off: ND4J/OpenBLAS, differences under 1e-6");
        setDefault(inputCol, "observations");
        setDefault(outputCol, "action");
        setDefault(seedCol, "");
        setDefault(policy, Policy.ONE_STEP.flag());
        setDefault(firstActionCol, "first_action");
        setDefault(seed, 0L);
        backend = new Param<>(this, "backend", "tensor backend on the executors: auto (OpenCL on the task's GPU when Spark "
                + "assigned one, else the CPU), cpu, or opencl (the task's GPU, else the first OpenCL device)");
        setDefault(exact, false);
        setDefault(backend, Backends.AUTO);
    }

    /** The model of the checkpoint a file or a run directory names (its checkpoint with the highest step), on any Hadoop path. */
    public static FqlPolicyModel fromCheckpoint(SparkSession spark, String location) {
        return fromCheckpoint(location, spark.sparkContext().hadoopConfiguration());
    }

    public static FqlPolicyModel fromCheckpoint(String location, Configuration hadoop) {
        CheckpointSource.Loaded loaded = CheckpointSource.load(location, hadoop);
        return new FqlPolicyModel(Identifiable$.MODULE$.randomUID("fqlPolicy"), loaded.bytes(), loaded.path());
    }

    // ------------------------------------------------------------------ params

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> seedCol() {
        return seedCol;
    }

    public Param<String> policy() {
        return policy;
    }

    public LongParam seed() {
        return seed;
    }

    public Param<String> firstActionCol() {
        return firstActionCol;
    }

    public FqlPolicyModel setFirstActionCol(String value) {
        set(firstActionCol, value == null ? "" : value);
        return this;
    }

    public String getFirstActionCol() {
        return $(firstActionCol);
    }

    /** The checkpoint's action-chunk length h: the output column holds h actions per row. */
    public int horizon() {
        return checkpoint.config().horizonLength();
    }

    /** Whether {@link #transform} adds {@link #firstActionCol}: a chunked policy and a column named. */
    boolean addsFirstAction() {
        return horizon() > 1 && !getFirstActionCol().isEmpty();
    }

    public BooleanParam exact() {
        return exact;
    }

    public FqlPolicyModel setExact(boolean value) {
        set(exact, value);
        return this;
    }

    public boolean getExact() {
        return (Boolean) $(exact);
    }

    public Param<String> backend() {
        return backend;
    }

    /** {@code auto}, {@code cpu} or {@code opencl}; anything else is refused naming {@code --backend}. */
    public FqlPolicyModel setBackend(String value) {
        set(backend, Backends.check(value));
        return this;
    }

    public String getBackend() {
        return $(backend);
    }

    public FqlPolicyModel setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public FqlPolicyModel setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    public FqlPolicyModel setSeedCol(String value) {
        set(seedCol, value == null ? "" : value);
        return this;
    }

    public FqlPolicyModel setPolicy(String value) {
        set(policy, Policy.parse(value).flag());
        return this;
    }

    public FqlPolicyModel setSeed(long value) {
        set(seed, value);
        return this;
    }

    public String getInputCol() {
        return $(inputCol);
    }

    public String getOutputCol() {
        return $(outputCol);
    }

    public String getSeedCol() {
        return $(seedCol);
    }

    public String getPolicy() {
        return $(policy);
    }

    public long getSeed() {
        return (Long) $(seed);
    }

    /** The checkpoint this model acts with. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public String checkpointSource() {
        return checkpointSource;
    }

    @Override
    public String uid() {
        return uid;
    }

    // ------------------------------------------------------------------ transform

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new PolicyInputException("column '" + in + "' is missing; the input has " + String.join(", ", schema.fieldNames())
                    + " (expected array<float> observations of width " + checkpoint.obsDim() + ")");
        }
        DataType type = schema.apply(in).dataType();
        if (!(type instanceof ArrayType array) || !(array.elementType() == DataTypes.FloatType || array.elementType() == DataTypes.DoubleType)) {
            throw new PolicyInputException("column '" + in + "' is " + type.simpleString() + ", expected array<float> or array<double>");
        }
        String seedColumn = getSeedCol();
        if (!seedColumn.isEmpty()) {
            if (!java.util.Arrays.asList(schema.fieldNames()).contains(seedColumn)) {
                throw new PolicyInputException("seed column '" + seedColumn + "' is missing; the input has " + String.join(", ", schema.fieldNames()));
            }
            DataType seedType = schema.apply(seedColumn).dataType();
            if (seedType != DataTypes.LongType && seedType != DataTypes.IntegerType) {
                throw new PolicyInputException("seed column '" + seedColumn + "' is " + seedType.simpleString() + ", expected bigint or int");
            }
        }
        String out = getOutputCol();
        if (java.util.Arrays.asList(schema.fieldNames()).contains(out)) {
            throw new PolicyInputException("output column '" + out + "' already exists in the input; choose another outputCol");
        }
        StructType added = schema.add(new StructField(out, DataTypes.createArrayType(DataTypes.FloatType, false), false,
                org.apache.spark.sql.types.Metadata.empty()));
        if (!addsFirstAction()) {
            return added;
        }
        String first = getFirstActionCol();
        if (java.util.Arrays.asList(added.fieldNames()).contains(first)) {
            throw new PolicyInputException("first-action column '" + first + "' already exists in the input or is the output "
                    + "column; choose another firstActionCol (or none)");
        }
        return added.add(new StructField(first, DataTypes.createArrayType(DataTypes.FloatType, false), false,
                org.apache.spark.sql.types.Metadata.empty()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        StructType outSchema = transformSchema(schema);
        Policy chosen = Policy.parse(getPolicy());
        String seedColumn = getSeedCol();
        Broadcast<PolicyWeights> weights = weights(dataset.sparkSession().sparkContext());
        PolicyRows rows = new PolicyRows(weights, broadcastKey, chosen,
                schema.fieldIndex(getInputCol()), getInputCol(), seedColumn.isEmpty() ? -1 : schema.fieldIndex(seedColumn),
                seedColumn, getSeed(), getExact(), addsFirstAction(), getBackend());
        return dataset.toDF().mapPartitions(rows, Encoders.row(outSchema));
    }

    /** The policy weights, broadcast once per model and SparkContext. */
    private synchronized Broadcast<PolicyWeights> weights(SparkContext sc) {
        if (broadcast == null || sc.isStopped() || broadcastContext != sc) {
            broadcast = JavaSparkContext.fromSparkContext(sc).broadcast(PolicyWeights.of(checkpoint));
            broadcastContext = sc;
            broadcastKey = uid + "/" + java.util.UUID.randomUUID();
        }
        return broadcast;
    }

    private transient SparkContext broadcastContext;
    private transient String broadcastKey;

    @Override
    public FqlPolicyModel copy(ParamMap extra) {
        FqlPolicyModel copy = new FqlPolicyModel(uid, checkpointBytes, checkpointSource);
        return copyValues(copy, extra).setParent(parent());
    }

    // ------------------------------------------------------------------ persistence

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    public static MLReader<FqlPolicyModel> read() {
        return new Reader();
    }

    public static FqlPolicyModel load(String path) {
        return read().load(path);
    }

    private static final class Writer extends MLWriter {
        private final FqlPolicyModel model;

        Writer(FqlPolicyModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
            Path dir = new Path(path);
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("class", FqlPolicyModel.class.getName());
            metadata.put("format_version", 1);
            metadata.put("uid", model.uid());
            metadata.put("checkpoint_source", model.checkpointSource);
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("inputCol", model.getInputCol());
            params.put("outputCol", model.getOutputCol());
            params.put("seedCol", model.getSeedCol());
            params.put("policy", model.getPolicy());
            params.put("seed", model.getSeed());
            params.put("exact", model.getExact());
            params.put("firstActionCol", model.getFirstActionCol());
            metadata.put("params", params);
            // Spark's own metadata/ too, so that a Pipeline holding this model saves and loads (PipelineModel reads each
            // stage's class from it, then calls that class's static read()).
            org.apache.spark.ml.util.DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession().sparkContext(),
                    scala.Option.empty(), scala.Option.empty());
            try {
                FileSystem fs = dir.getFileSystem(hadoop);
                fs.mkdirs(dir);
                try (OutputStream out = fs.create(new Path(dir, CHECKPOINT), false)) {
                    out.write(model.checkpointBytes);
                }
                try (OutputStream out = fs.create(new Path(dir, METADATA), false)) {
                    JSON.writeValue(out, metadata);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<FqlPolicyModel> {
        @Override
        public FqlPolicyModel load(String path) {
            Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
            Path dir = new Path(path);
            try {
                FileSystem fs = dir.getFileSystem(hadoop);
                Path metadataFile = new Path(dir, METADATA);
                if (!fs.exists(metadataFile)) {
                    throw new PolicyInputException(path + ": not a saved FqlPolicyModel (no " + METADATA + ")");
                }
                JsonNode metadata;
                try {
                    metadata = JSON.readTree(HadoopFiles.readBounded(fs, metadataFile, MAX_METADATA_BYTES,
                            "a saved FqlPolicyModel's metadata"));
                } catch (org.fqlspark.data.DatasetException e) {
                    throw new PolicyInputException(e.getMessage(), e);
                }
                if (!FqlPolicyModel.class.getName().equals(metadata.path("class").asText())) {
                    throw new PolicyInputException(metadataFile + ": class is '" + metadata.path("class").asText() + "', expected "
                            + FqlPolicyModel.class.getName());
                }
                byte[] bytes;
                Path checkpointFile = new Path(dir, CHECKPOINT);
                // as every checkpoint read: the magic and the size are checked before the file is read whole
                try (InputStream in = fs.open(checkpointFile)) {
                    bytes = Checkpoint.readBytes(in, fs.getFileStatus(checkpointFile).getLen(), checkpointFile.toString());
                } catch (Checkpoint.CheckpointException e) {
                    throw new PolicyInputException(e.getMessage(), e);
                }
                FqlPolicyModel model = new FqlPolicyModel(metadata.path("uid").asText(), bytes,
                        metadata.path("checkpoint_source").asText(new Path(dir, CHECKPOINT).toString()));
                JsonNode params = metadata.path("params");
                model.setInputCol(params.path("inputCol").asText("observations"))
                        .setOutputCol(params.path("outputCol").asText("action"))
                        .setSeedCol(params.path("seedCol").asText(""))
                        .setPolicy(params.path("policy").asText(Policy.ONE_STEP.flag()))
                        .setSeed(params.path("seed").asLong(0))
                        .setExact(params.path("exact").asBoolean(false))
                        .setFirstActionCol(params.path("firstActionCol").asText("first_action"));
                return model;
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": " + e.getMessage(), e);
            }
        }
    }
}
