package org.fqlspark.ingest;

import java.util.function.Function;

import picocli.CommandLine;

/**
 * A picocli converter for a value type with a {@code parse(String)} that throws {@link IllegalArgumentException}: its
 * message becomes picocli's usage error. Subclasses only name the parser (picocli needs a no-argument class).
 */
public abstract class ParsingConverter<T> implements CommandLine.ITypeConverter<T> {

    private final Function<String, T> parse;

    protected ParsingConverter(Function<String, T> parse) {
        this.parse = parse;
    }

    @Override
    public T convert(String value) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
