package org.fqlspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.fqlspark.testing.OpenClRequired;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --backend} of {@code bench} and {@code conformance}: a bad name or an OpenCL device that is not there ends with
 * exit 2 and one line; {@code conformance --backend opencl} passes a golden dump on this machine's OpenCL device (PoCL
 * in CI).
 */
class BackendOptionTest {

    /** The shared golden dump of the agent module (the tests run in this module's directory). */
    private static final Path GOLDEN = Path.of("../fql-agent/src/test/resources/golden/fql_tiny_default.json");

    private record Run(int code, String out, String err) {
    }

    private static Run fql(String... args) {
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            return new Run(cli.execute(args), out.toString(), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void anUnknownBackendIsBadInput() {
        for (String command : new String[] {"bench", "conformance"}) {
            Run run = command.equals("bench") ? fql("bench", "--backend", "cuda", "--small-only")
                    : fql("conformance", "--backend", "cuda", "--golden", GOLDEN.toString());
            assertEquals(2, run.code(), run.err());
            assertEquals("error: --backend must be auto, cpu or opencl, was 'cuda'", run.err().strip(), command);
        }
    }

    @Test
    void anOpenClDeviceThatIsNotThereIsBadInputInOneLine() {
        System.setProperty("fql.opencl.device", "99");
        try {
            Run run = fql("conformance", "--backend", "opencl", "--golden", GOLDEN.toString());
            assertEquals(2, run.code(), run.err());
            String line = run.err().strip();
            assertTrue(line.startsWith("error: -Dfql.opencl.device=99 but this machine has ") && !line.contains("\n"), line);
            assertEquals("", run.out(), "nothing ran");
        } finally {
            System.clearProperty("fql.opencl.device");
        }
    }

    @Test
    void conformancePassesOnOpenCl() throws Exception {
        OpenClRequired.require();
        assertTrue(Files.isRegularFile(GOLDEN), GOLDEN.toAbsolutePath().toString());
        Run run = fql("conformance", "--backend", "opencl", "--golden", GOLDEN.toString());
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("backend: opencl -> OpenCL on "), run.out());
        assertTrue(run.out().strip().endsWith("PASS"), run.out());
    }
}
