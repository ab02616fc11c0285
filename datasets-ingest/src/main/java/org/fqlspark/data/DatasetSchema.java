package org.fqlspark.data;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet data contract, defined once: one row per transition, ordered by ({@code episode_id},
 * {@code step_index}). Every reader, the generator and the trainer go through these names and types.
 *
 * <p>Readers compare types but not nullability: Parquet columns written non-nullable read back nullable.
 */
public final class DatasetSchema {

    /** Bumped whenever a column is added, removed or changes meaning. */
    public static final int SCHEMA_VERSION = 1;

    public static final String OBSERVATIONS = "observations";
    public static final String ACTIONS = "actions";
    public static final String REWARDS = "rewards";
    public static final String MASKS = "masks";
    public static final String TERMINALS = "terminals";
    public static final String NEXT_OBSERVATIONS = "next_observations";
    public static final String EPISODE_ID = "episode_id";
    public static final String STEP_INDEX = "step_index";

    public static final String MANIFEST_FILE = "manifest.json";
    /**
     * The largest manifest read (64 MiB): far above any this project writes (one shard entry is under 100 bytes), and
     * checked before the file is read.
     */
    public static final int MAX_MANIFEST_BYTES = 64 << 20;

    /**
     * Dataset actions are clipped to ±(1 − 1e-5) (docs/algorithm.md §6.1 step 4, §6.2). The bound is the float32 value
     * numpy uses when it clips a float32 array with a Python float.
     */
    public static final float ACTION_CLIP = (float) (1.0 - 1e-5);

    public static final List<String> COLUMNS = List.of(
            OBSERVATIONS, ACTIONS, REWARDS, MASKS, TERMINALS, NEXT_OBSERVATIONS, EPISODE_ID, STEP_INDEX);

    private static final ArrayType FLOAT_ARRAY = DataTypes.createArrayType(DataTypes.FloatType, false);

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField(OBSERVATIONS, FLOAT_ARRAY, false),
        DataTypes.createStructField(ACTIONS, FLOAT_ARRAY, false),
        DataTypes.createStructField(REWARDS, DataTypes.FloatType, false),
        DataTypes.createStructField(MASKS, DataTypes.FloatType, false),
        DataTypes.createStructField(TERMINALS, DataTypes.FloatType, false),
        DataTypes.createStructField(NEXT_OBSERVATIONS, FLOAT_ARRAY, false),
        DataTypes.createStructField(EPISODE_ID, DataTypes.LongType, false),
        DataTypes.createStructField(STEP_INDEX, DataTypes.IntegerType, false),
    });

    private static final Map<String, String> DESCRIPTIONS = Map.of(
            OBSERVATIONS, "array<float>: s_t, obs_dim values",
            ACTIONS, "array<float>: a_t, action_dim values, clipped to ±(1 − 1e-5)",
            REWARDS, "float: r_t",
            MASKS, "float: 0 = do not bootstrap from s_{t+1} (a true termination), else 1",
            TERMINALS, "float: 1 at the last transition of a contiguous episode segment (boundary only)",
            NEXT_OBSERVATIONS, "array<float>: s_{t+1}, obs_dim values",
            EPISODE_ID, "long: the source episode (trajectory) this transition belongs to",
            STEP_INDEX, "int: the transition's step within its episode in the source");

    private DatasetSchema() {}

    /** A one-line description of a column, for the README and error messages. */
    public static String describe(String column) {
        return DESCRIPTIONS.getOrDefault(column, "unknown column");
    }

    /**
     * Checks that {@code actual} holds every contract column with the contract's type (extra columns are
     * allowed, nullability is ignored).
     *
     * @throws DatasetException naming {@code where} and the first offending column
     */
    public static void requireCompatible(StructType actual, String where) {
        for (StructField expected : SCHEMA.fields()) {
            int index = actual.getFieldIndex(expected.name()).getOrElse(() -> -1);
            if (index < 0) {
                throw new DatasetException(where, expected.name(),
                        "column is missing; expected " + expected.dataType().simpleString()
                                + " (data contract v" + SCHEMA_VERSION + ")");
            }
            DataType type = actual.fields()[index].dataType();
            if (!sameTypeIgnoringNullability(type, expected.dataType())) {
                throw new DatasetException(where, expected.name(),
                        "column has type " + type.simpleString() + "; expected "
                                + expected.dataType().simpleString());
            }
        }
    }

    private static boolean sameTypeIgnoringNullability(DataType a, DataType b) {
        if (a instanceof ArrayType aa && b instanceof ArrayType bb) {
            return aa.elementType().equals(bb.elementType());
        }
        return a.equals(b);
    }
}
