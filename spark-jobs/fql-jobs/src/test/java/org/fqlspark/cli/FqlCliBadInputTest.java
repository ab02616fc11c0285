package org.fqlspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.conformance.GoldenDump;
import org.fqlspark.launch.BadInput;
import org.junit.jupiter.api.Test;

/**
 * Exit code 2 (bad input) used to be chosen by matching exception class names; now the project's exceptions say it
 * themselves ({@link BadInput}). Every exception class of the project, across all modules, must get the same exit code
 * as under the old rule.
 */
class FqlCliBadInputTest {

    /** The rule as it was, by class name. */
    private static boolean oldRule(Class<?> type) {
        return IllegalArgumentException.class.isAssignableFrom(type)
                || java.io.FileNotFoundException.class.isAssignableFrom(type)
                || java.nio.file.NoSuchFileException.class.isAssignableFrom(type)
                || java.nio.file.FileAlreadyExistsException.class.isAssignableFrom(type)
                || org.fqlspark.data.DatasetException.class.isAssignableFrom(type)
                || matchedByName(type);
    }

    private static boolean matchedByName(Class<?> type) {
        return type.getName().startsWith("org.fqlspark") && type.getSimpleName().matches(".*(Format|Dataset|Checkpoint|Config|Input)Exception");
    }

    @Test
    void everyExceptionOfTheProjectKeepsItsExitCode() throws Exception {
        List<Class<? extends Throwable>> exceptions = projectExceptions();
        Set<String> names = new TreeSet<>();
        exceptions.forEach(c -> names.add(c.getName()));
        // the scan sees every module: fql-runtime, datasets-ingest, fql-agent and fql-jobs
        for (String known : List.of("org.fqlspark.data.DatasetException", "org.fqlspark.io.OutputGuard$OutputRefusedException",
                "org.fqlspark.io.Lease$HeldException", "org.fqlspark.agent.Checkpoint$CheckpointException",
                "org.fqlspark.conformance.GoldenDump$GoldenFormatException", "org.fqlspark.eval.EvalInputException",
                "org.fqlspark.eval.BridgeException", "org.fqlspark.policy.PolicyInputException",
                "org.fqlspark.train.TrainingDivergedException")) {
            assertTrue(names.contains(known), known + " not found among " + names);
        }
        for (Class<? extends Throwable> c : exceptions) {
            assertEquals(oldRule(c), FqlCli.isBadInput(c), c.getName());
            if (matchedByName(c)) {
                boolean agents = c == Checkpoint.CheckpointException.class || c == GoldenDump.GoldenFormatException.class;
                assertTrue(BadInput.class.isAssignableFrom(c) || agents, c.getName() + " should implement BadInput");
            }
        }
    }

    /** Every Throwable among the project's main classes on this test's class path (classes directories or jars). */
    private static List<Class<? extends Throwable>> projectExceptions() throws IOException, ClassNotFoundException {
        List<String> classNames = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p) && !p.getFileName().toString().equals("test-classes")) {
                Path root = p.resolve("org/fqlspark");
                if (!Files.isDirectory(root)) continue;
                try (Stream<Path> walk = Files.walk(root)) {
                    walk.map(f -> p.relativize(f).toString()).filter(n -> n.endsWith(".class")).forEach(classNames::add);
                }
            } else if (entry.endsWith(".jar") && (p.getFileName().toString().startsWith("fql-")
                    || p.getFileName().toString().startsWith("datasets-ingest-"))) {
                try (JarFile jar = new JarFile(entry)) {
                    jar.stream().map(e -> e.getName()).filter(n -> n.startsWith("org/fqlspark/") && n.endsWith(".class"))
                            .forEach(classNames::add);
                }
            }
        }
        List<Class<? extends Throwable>> exceptions = new ArrayList<>();
        ClassLoader loader = FqlCliBadInputTest.class.getClassLoader();
        for (String n : classNames) {
            Class<?> c = Class.forName(n.substring(0, n.length() - ".class".length()).replace(File.separatorChar, '.').replace('/', '.'),
                    false, loader);
            if (Throwable.class.isAssignableFrom(c)) exceptions.add(c.asSubclass(Throwable.class));
        }
        return exceptions;
    }
}
