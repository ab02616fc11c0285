package org.fqlspark.launch;

/**
 * Marks an exception that means bad input (a flag, a path, a file's content, an output that may not be written): the
 * {@code fql} command line ends with exit code 2 and one line naming what was wrong, instead of 1 and a stack trace.
 * The JDK's own bad-input types ({@link IllegalArgumentException} and its subclasses, a missing or existing file) count
 * without it.
 */
public interface BadInput {
}
