package org.fqlspark.notebooks;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;

import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;

/**
 * Runs %spark paragraphs the way Zeppelin's Spark interpreter does: Scala 2.12 code in a REPL with {@code spark},
 * {@code sc} and {@code z} bound, returning what the paragraph printed.
 */
final class ScalaParagraphs implements AutoCloseable {

    private final IMain repl;
    private final StringWriter compilerOutput = new StringWriter();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    ScalaParagraphs(SparkSession spark, NoteForms forms) {
        Settings settings = new Settings();
        // Surefire runs tests from a manifest-only jar; the real class path is in this property.
        settings.classpath().value_$eq(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        settings.usejavacp().value_$eq(true);
        repl = new IMain(settings, new PrintWriter(compilerOutput, true));
        bind("spark", SparkSession.class.getName(), spark);
        bind("sc", SparkContext.class.getName(), spark.sparkContext());
        bind("z", NoteForms.class.getName(), forms);
        bind("fqlPrinted", ByteArrayOutputStream.class.getName(), printed);
    }

    private void bind(String name, String type, Object value) {
        scala.collection.immutable.List<String> noModifiers = scala.collection.immutable.List$.MODULE$.empty();
        Results.Result r = repl.bind(name, type, value, noModifiers);
        if (!(r instanceof Results.Success$)) {
            throw new IllegalStateException("cannot bind " + name + ": " + compilerOutput);
        }
    }

    /** Runs one paragraph's code; returns what it printed, or throws with the compiler's or the runtime's message. */
    String run(String code) {
        printed.reset();
        compilerOutput.getBuffer().setLength(0);
        // A block keeps the paragraph's imports and vals local, as each Zeppelin paragraph is its own REPL input.
        Results.Result r = repl.interpret("scala.Console.withOut(fqlPrinted) {\n" + code + "\n}");
        if (!(r instanceof Results.Success$)) {
            throw new AssertionError("the paragraph failed (" + r + "):\n" + compilerOutput);
        }
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        repl.close();
    }
}
