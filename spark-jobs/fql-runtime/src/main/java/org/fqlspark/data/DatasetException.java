package org.fqlspark.data;

import org.fqlspark.launch.BadInput;

/**
 * Bad input or bad output location: the message names the file, the key (array, column or option) and what
 * was expected. The ingest command maps it to exit code {@value #EXIT_CODE}.
 *
 * <p>It lives in fql-runtime, beside {@link org.fqlspark.io.OutputGuard} whose refusal is one, under the package name
 * of the data contract it belongs to (datasets-ingest), so that no import changed when the guard moved there.
 */
public class DatasetException extends RuntimeException implements BadInput {

    /** The ingest command's exit code for bad input (picocli's usage-error code, so scripts see one code). */
    public static final int EXIT_CODE = 2;

    private final String file;
    private final String key;

    public DatasetException(String file, String key, String detail) {
        this(file, key, detail, null);
    }

    public DatasetException(String file, String key, String detail, Throwable cause) {
        super(format(file, key, detail), cause);
        this.file = file;
        this.key = key;
    }

    /** For subclasses whose message reads better in another order; {@code message} is used as it is. */
    protected DatasetException(Throwable cause, String message, String file, String key) {
        super(message, cause);
        this.file = file;
        this.key = key;
    }

    private static String format(String file, String key, String detail) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<no file>" : file);
        if (key != null) sb.append(": key '").append(key).append('\'');
        sb.append(": ").append(detail);
        return sb.toString();
    }

    /** The file or directory the problem is in. */
    public String file() {
        return file;
    }

    /** The array, column or option at fault, or null when the problem concerns the whole file. */
    public String key() {
        return key;
    }
}
