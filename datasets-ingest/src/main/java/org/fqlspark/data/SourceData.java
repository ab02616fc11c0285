package org.fqlspark.data;

import java.util.Objects;

/**
 * A source file read into transitions, before cleaning (no finiteness check, no action clipping yet: see
 * {@link TransitionCleaner}).
 */
public record SourceData(TransitionData data, SourceInfo source, SourceLocator locator) {
    public SourceData {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(locator, "locator");
    }
}
