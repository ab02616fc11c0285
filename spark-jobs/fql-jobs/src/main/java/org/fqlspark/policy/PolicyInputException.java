package org.fqlspark.policy;

import org.fqlspark.launch.BadInput;

/**
 * Bad input to acting or exporting (a flag, a column, a row, an output path): the message names it and says what was
 * expected. The command line prints it as one line and exits with code 2.
 */
public final class PolicyInputException extends IllegalArgumentException implements BadInput {

    public PolicyInputException(String message) {
        super(message);
    }

    public PolicyInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
