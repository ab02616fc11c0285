package org.fqlspark.agent;

import java.io.IOException;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * JSON of objects whose fields are settings: {@link FqlConfig} itself (config.json's {@code fql_config}, checkpoint
 * headers) and a sweep config's {@code agent} section. Fields are written in the table's order whatever the mapper's
 * sorting, and read each as its setting's kind, so a type error names the type and an unknown field lists the known ones.
 */
public final class SettingJson {

    private SettingJson() {
    }

    /** Writes {@code fields} (name → value, in order) as one JSON object. */
    public static void writeObject(Object bean, Map<String, Object> fields, JsonGenerator gen, SerializerProvider provider)
            throws IOException {
        gen.writeStartObject(bean);
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            gen.writeFieldName(e.getKey());
            provider.defaultSerializeValue(e.getValue(), gen);
        }
        gen.writeEndObject();
    }

    /**
     * Reads one JSON object whose fields are settings, named by {@code name} ({@link Setting#field()} or
     * {@link Setting#key()}); a field that names none goes to the context's unknown-property handling (by default an
     * error listing {@code deser}'s known names).
     *
     * @param choiceAsText read a {@link Setting.Kind#CHOICE} as text (checked later, naming its key) instead of the enum
     * @return setting → value as written (null for a JSON null), in the object's order
     */
    public static Map<Setting<?>, Object> readFields(JsonParser p, DeserializationContext ctxt, JsonDeserializer<?> deser,
                                                    Function<Setting<?>, String> name, boolean choiceAsText) throws IOException {
        if (!p.isExpectedStartObjectToken()) {
            ctxt.handleUnexpectedToken(deser.handledType(), p);
        }
        JsonNode tree = ctxt.readTree(p);
        Map<Setting<?>, Object> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            Setting<?> s = FqlConfig.SETTINGS.stream().filter(x -> name.apply(x).equals(field.getKey())).findFirst().orElse(null);
            if (s == null) {
                ctxt.handleUnknownProperty(p, deser, deser.handledType(), field.getKey());
            } else {
                values.put(s, ctxt.readTreeAsValue(field.getValue(), type(s, ctxt, choiceAsText)));
            }
        }
        return values;
    }

    /** Every setting's name, for {@link JsonDeserializer#getKnownPropertyNames()}. */
    public static Collection<Object> names(Function<Setting<?>, String> name) {
        return FqlConfig.SETTINGS.stream().map(s -> (Object) name.apply(s)).toList();
    }

    private static JavaType type(Setting<?> s, DeserializationContext ctxt, boolean choiceAsText) {
        return switch (s.kind()) {
            case REAL -> ctxt.constructType(Double.class);
            case INTEGER -> ctxt.constructType(Integer.class);
            case FLAG -> ctxt.constructType(Boolean.class);
            case WIDTHS -> ctxt.getTypeFactory().constructCollectionType(List.class, Integer.class);
            case CHOICE -> ctxt.constructType(choiceAsText ? String.class : s.defaultValue().getClass());
        };
    }

    /**
     * {@link FqlConfig} as config.json and checkpoints record it: one field per setting, named after its record
     * component, in component order (as Jackson writes a record). A setting {@linkplain Setting#isOmittedAtDefault()
     * omitted at default} is written only when it differs from its default and read as the default where a record
     * lacks it, so files written before it existed read, resume and compare as they did.
     */
    static final class ConfigWriter extends StdSerializer<FqlConfig> {
        ConfigWriter() {
            super(FqlConfig.class);
        }

        @Override
        public void serialize(FqlConfig config, JsonGenerator gen, SerializerProvider provider) throws IOException {
            Map<String, Object> fields = new LinkedHashMap<>();
            for (Setting<?> s : FqlConfig.SETTINGS) {
                Object value = s.get(config);
                if (!(s.isOmittedAtDefault() && s.isDefault(value))) {
                    fields.put(s.field(), value);
                }
            }
            writeObject(config, fields, gen, provider);
        }
    }

    /** Reads what {@link ConfigWriter} writes; a field other than those is an error, as is a missing one. */
    static final class ConfigReader extends StdDeserializer<FqlConfig> {
        ConfigReader() {
            super(FqlConfig.class);
        }

        @Override
        public FqlConfig deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            Map<Setting<?>, Object> given = readFields(p, ctxt, this, Setting::field, false);
            Object[] values = FqlConfig.defaults().values();
            for (Setting<?> s : FqlConfig.SETTINGS) {
                if (given.containsKey(s)) {
                    values[s.index()] = given.get(s);
                } else if (!s.isOmittedAtDefault()) {
                    return ctxt.reportInputMismatch(this, "FQL config without '%s' (the setting %s)", s.field(), s.key());
                }
            }
            try {
                return FqlConfig.create(values);
            } catch (IllegalArgumentException e) {
                throw ValueInstantiationException.from(p, e.getMessage(), ctxt.constructType(FqlConfig.class), e);
            }
        }

        @Override
        public Collection<Object> getKnownPropertyNames() {
            return names(Setting::field);
        }
    }
}
