package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * The ONNX checks cannot pass by accident (issue 21, item 8): where the checker's native library is missing, CI fails,
 * elsewhere only the checker is skipped (the ONNX Runtime comparisons still run) and the rejection test is reported
 * as skipped, never as passed. The missing library is simulated; the real one is whatever this platform has.
 */
class OnnxCheckerTest {

    private static final Path FILE = Path.of("model.onnx");
    private static final OnnxChecker.Native MISSING = file -> {
        throw new UnsatisfiedLinkError("no jnionnx in java.library.path");
    };
    private static final OnnxChecker.Native REJECTS = file -> {
        throw new RuntimeException("ValidationError: No Op registered for NoSuchOperator");
    };
    private static final OnnxChecker.Native ACCEPTS = file -> {
    };

    @Test
    void aMissingNativeLibraryFailsInCi() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> OnnxChecker.check(FILE, MISSING, true));
        assertTrue(e.getMessage().contains("native library") && e.getMessage().contains("CI"), e.getMessage());
        assertThrows(AssertionFailedError.class, () -> OnnxChecker.assertRejects(FILE, MISSING, true));
    }

    @Test
    void outsideCiAMissingLibrarySkipsOnlyTheCheckerNotTheTestAroundIt() {
        assertFalse(OnnxChecker.check(FILE, MISSING, false), "not checked; the caller goes on to ONNX Runtime");
        assertTrue(OnnxChecker.check(FILE, ACCEPTS, false));
    }

    @Test
    void theRejectionTestIsSkippedNotPassedWithoutTheLibrary() {
        // JUnit's abort is a RuntimeException: an assertThrows(RuntimeException) around the checker used to pass here
        assertThrows(TestAbortedException.class, () -> OnnxChecker.assertRejects(FILE, MISSING, false));
        OnnxChecker.assertRejects(FILE, REJECTS, false);
        assertThrows(AssertionFailedError.class, () -> OnnxChecker.assertRejects(FILE, ACCEPTS, false));
    }

    @Test
    void aRejectedModelIsAFailureOfTheCheck() {
        assertThrows(RuntimeException.class, () -> OnnxChecker.check(FILE, REJECTS, false));
    }
}
