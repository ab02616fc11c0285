package org.fqlspark.io;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * Lets a job that prints to a {@link PrintStream} print through a command's {@link PrintWriter} (picocli's, which a
 * parent command or a test may have replaced). Bytes are buffered until a flush, so whole lines are decoded and
 * multi-byte UTF-8 characters (σ, ×) are never split.
 */
public final class WriterOutputStream extends OutputStream {

    private final PrintWriter writer;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    public WriterOutputStream(PrintWriter writer) {
        this.writer = writer;
    }

    /** A UTF-8 print stream that flushes into {@code writer} at every line. */
    public static PrintStream printStream(PrintWriter writer) {
        return new PrintStream(new WriterOutputStream(writer), true, StandardCharsets.UTF_8);
    }

    @Override
    public void write(int b) {
        buffer.write(b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
        buffer.write(bytes, offset, length);
    }

    @Override
    public void flush() {
        writer.write(buffer.toString(StandardCharsets.UTF_8));
        buffer.reset();
        writer.flush();
    }
}
