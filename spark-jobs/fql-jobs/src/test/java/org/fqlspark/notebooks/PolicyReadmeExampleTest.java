package org.fqlspark.notebooks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.testing.TestSpark;

/**
 * The README's "Use the policy" Scala example runs as a Zeppelin %spark paragraph would, against a tiny run directory
 * and dataset laid out where the example expects them (its /tmp/fql/ paths moved into a temporary directory).
 */
class PolicyReadmeExampleTest {

    @TempDir
    Path dir;

    @Test
    void theReadmeScalaExampleRuns() throws Exception {
        String readme = Files.readString(DeployRoot.find().resolve("README.md"));
        int section = readme.indexOf("## Use the policy");
        assertTrue(section >= 0, "README has no 'Use the policy' section");
        Matcher m = Pattern.compile("```scala\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), "no scala block in 'Use the policy'");
        String code = m.group(1).replace("/tmp/fql/", dir.toAbsolutePath() + "/");

        FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(16, 16), 2, 2, 1);
        Checkpoint.of(agent, Map.of()).save(dir.resolve("runs/pm/checkpoints/step-000000000000.fqlckpt"));
        SparkSession spark = TestSpark.session();
        StructType schema = new StructType()
                .add("observations", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("episode_id", DataTypes.IntegerType, false)
                .add("step_index", DataTypes.IntegerType, false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) rows.add(RowFactory.create(new float[] {i * 0.1f, -i * 0.2f}, i / 10, i % 10));
        spark.createDataFrame(rows, schema).write().parquet(dir.resolve("data/pointmaze-medium-stitch").toString());
        Files.writeString(dir.resolve("data/pointmaze-medium-stitch/manifest.json"), "{}");   // as a dataset directory has

        try (ScalaParagraphs scala = new ScalaParagraphs(spark, new NoteForms(Map.of()))) {
            String printed = scala.run(code);
            assertTrue(printed.contains("|action") || printed.contains("action"), printed);
            assertTrue(printed.contains("only showing top 3 rows"), printed);
        }
        assertTrue(Files.isRegularFile(dir.resolve("models/pm/metadata.json")));
        assertTrue(Files.isRegularFile(dir.resolve("models/pm/checkpoint.fqlckpt")));
    }

    /** The repository root: the first directory up from the working directory holding README.md and the fql launcher. */
    static final class DeployRoot {
        static Path find() {
            for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
                if (Files.isRegularFile(d.resolve("README.md")) && Files.isRegularFile(d.resolve("fql"))) return d;
            }
            throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
        }
    }
}
