package org.fqlspark.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the tests that simulate a wrong implementation share: read a golden dump as JSON, edit it in one place, write it
 * to a test's temporary directory and replay it, then say which checks failed.
 */
final class EditedDumps {

    static final ObjectMapper JSON = new ObjectMapper();

    private EditedDumps() {
    }

    static ObjectNode read(Path golden) throws IOException {
        return (ObjectNode) JSON.readTree(golden.toFile());
    }

    /** {@code root} written as {@code dir/name}. */
    static Path write(ObjectNode root, Path dir, String name) throws IOException {
        Path out = dir.resolve(name);
        JSON.writeValue(out.toFile(), root);
        return out;
    }

    /** The dump {@code golden} with {@code edit} applied, written as {@code dir/edited.json}. */
    static Path edited(Path golden, Path dir, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = read(golden);
        edit.accept(root);
        return write(root, dir, "edited.json");
    }

    /** Conformance of our agent against the edited dump, at the default tolerance. */
    static Conformance.Report replay(Path golden, Path dir, Consumer<ObjectNode> edit) throws IOException {
        return Conformance.run(GoldenDump.load(edited(golden, dir, edit)), Conformance.DEFAULT_TOLERANCE);
    }

    /** The failed checks, one "group: name" a line. */
    static String failures(Conformance.Report report) {
        return report.checks().stream().filter(c -> !c.pass()).map(c -> c.group() + ": " + c.name())
                .collect(Collectors.joining("\n"));
    }

    static void assertFailsNaming(Conformance.Report report, String... words) {
        assertFalse(report.passed(), "should fail; checks: " + report.checks().size());
        String failed = failures(report);
        for (String w : words) {
            assertTrue(failed.contains(w), "failures should name '" + w + "':\n" + failed);
        }
    }
}
