package org.fqlspark.eval;

import org.fqlspark.launch.BadInput;

/**
 * Bad input to an evaluation (a flag, a path, a file's content): the message names the flag or file and says what
 * was wrong. The command line prints it as one line and exits with code 2.
 */
public final class EvalInputException extends IllegalArgumentException implements BadInput {

    public EvalInputException(String message) {
        super(message);
    }

    public EvalInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
