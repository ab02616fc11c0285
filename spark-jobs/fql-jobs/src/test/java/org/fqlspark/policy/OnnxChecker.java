package org.fqlspark.policy;

import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/** ONNX's own checker ({@code onnx::checker::check_model}, ONNX 1.10.2 through the JavaCPP preset of ND4J's line). */
final class OnnxChecker {

    private OnnxChecker() {
    }

    /** Throws if ONNX's checker rejects the model file; skips the test where the preset has no native build. */
    static void check(Path file) {
        try {
            org.bytedeco.onnx.global.onnx.check_model(file.toString());
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            Assumptions.abort("ONNX checker (org.bytedeco:onnx) has no native library for this platform: " + e);
        }
    }
}
