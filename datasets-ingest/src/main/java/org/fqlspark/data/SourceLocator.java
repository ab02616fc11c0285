package org.fqlspark.data;

/**
 * Maps a value of a built transition back to where it came from in the source file, so that an error
 * about, say, a NaN next observation names the source key and row rather than an internal index.
 */
@FunctionalInterface
public interface SourceLocator {

    /** A source key and row. */
    record Location(String key, long row) {}

    /**
     * @param column a contract column name ({@link DatasetSchema#OBSERVATIONS}, ...)
     * @param transition the transition's index in the built data
     */
    Location locate(String column, int transition);

    /** For data whose transitions are the source rows (the generator, exported forms). */
    static SourceLocator identity() {
        return (column, transition) -> new Location(column, transition);
    }
}
