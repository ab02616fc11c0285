package org.fqlspark.notebooks;

import java.util.Map;

/**
 * Stands in for Zeppelin's {@code z} (ZeppelinContext) in the notes' %spark paragraphs: {@code z.noteTextbox(name,
 * default)} answers the test's value for the note form, as Zeppelin answers what the user typed into the box.
 */
public final class NoteForms {

    private final Map<String, String> values;

    public NoteForms(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    public Object noteTextbox(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    public Object noteTextbox(String name) {
        return noteTextbox(name, "");
    }
}
