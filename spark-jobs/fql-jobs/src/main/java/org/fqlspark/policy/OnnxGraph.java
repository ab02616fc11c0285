package org.fqlspark.policy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one ONNX model (ModelProto) out of float32 initializers and standard-domain nodes, and serializes it with
 * {@link Protobuf}. Field numbers are those of {@code onnx/onnx.proto} (ONNX 1.8+, IR version 7).
 */
final class OnnxGraph {

    /** IR version 7 (ONNX 1.7/1.8): read by every ONNX Runtime since 1.5 and by ONNX's checker since 1.8. */
    static final int IR_VERSION = 7;
    /** Operator set of the default domain: 13 has every operator used here with its current signature. */
    static final int OPSET = 13;

    private static final int TENSOR_FLOAT = 1;
    private static final int TENSOR_INT64 = 7;
    private static final int ATTRIBUTE_INT = 2;
    private static final int ATTRIBUTE_INTS = 7;

    private final List<Protobuf> nodes = new ArrayList<>();
    private final Map<String, Protobuf> initializers = new LinkedHashMap<>();
    private final List<Protobuf> inputs = new ArrayList<>();
    private final List<Protobuf> outputs = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private int counter;

    /** A graph input of element type float and shape {@code [batch, width]}, with a symbolic batch dimension. */
    void input(String name, int width) {
        inputs.add(valueInfo(name, width));
    }

    void output(String name, int width) {
        outputs.add(valueInfo(name, width));
    }

    void metadata(String key, String value) {
        metadata.put(key, value);
    }

    /** A float initializer; a name already added is reused (the unrolled Euler steps share the flow's weights). */
    String weights(String name, long[] dims, float[] data, int offset) {
        if (initializers.containsKey(name)) return name;
        long n = 1;
        for (long d : dims) n *= d;
        ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(data, offset, (int) n);
        Protobuf tensor = new Protobuf();
        for (long d : dims) tensor.varint(1, d);
        tensor.varint(2, TENSOR_FLOAT).string(8, name).bytes(9, raw.array());
        initializers.put(name, tensor);
        return name;
    }

    /** A float scalar (rank 0) constant. */
    String scalar(float value) {
        return weights("const_" + counter++, new long[0], new float[] {value}, 0);
    }

    /** An int64 vector constant (Slice's starts, ends and axes). */
    String int64s(long... values) {
        String name = "const_" + counter++;
        ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) raw.putLong(v);
        Protobuf tensor = new Protobuf().varint(1, values.length).varint(2, TENSOR_INT64).string(8, name).bytes(9, raw.array());
        initializers.put(name, tensor);
        return name;
    }

    /** Adds a node with one output, named after the operator; returns the output's name. */
    String node(String op, String... in) {
        return node(op, Map.of(), in);
    }

    /**
     * @param attributes an attribute's value is a {@code Long} (INT) or a {@code long[]} (INTS)
     */
    String node(String op, Map<String, Object> attributes, String... in) {
        String out = op.toLowerCase(java.util.Locale.ROOT) + "_" + counter++;
        return nodeTo(out, op, attributes, in);
    }

    /** Adds a node whose output has the given name (a graph output). */
    String nodeTo(String out, String op, Map<String, Object> attributes, String... in) {
        Protobuf node = new Protobuf();
        for (String i : in) node.string(1, i);
        node.string(2, out).string(3, "node_" + counter++).string(4, op);
        for (Map.Entry<String, Object> a : attributes.entrySet()) {
            Protobuf attribute = new Protobuf().string(1, a.getKey());
            if (a.getValue() instanceof Long l) {
                attribute.varint(3, l).varint(20, ATTRIBUTE_INT);
            } else if (a.getValue() instanceof long[] ls) {
                for (long l : ls) attribute.varint(8, l);
                attribute.varint(20, ATTRIBUTE_INTS);
            } else {
                throw new IllegalArgumentException("attribute " + a.getKey() + ": unsupported value " + a.getValue());
            }
            node.message(5, attribute);
        }
        nodes.add(node);
        return out;
    }

    /** The serialized ModelProto. */
    byte[] model(String graphName, String docString, String producerVersion) {
        Protobuf graph = new Protobuf();
        for (Protobuf n : nodes) graph.message(1, n);
        graph.string(2, graphName);
        for (Protobuf t : initializers.values()) graph.message(5, t);
        graph.string(10, docString);
        for (Protobuf i : inputs) graph.message(11, i);
        for (Protobuf o : outputs) graph.message(12, o);
        Protobuf model = new Protobuf()
                .varint(1, IR_VERSION)
                .string(2, "fql-spark")
                .string(3, producerVersion)
                .string(6, docString)
                .message(7, graph)
                .message(8, new Protobuf().string(1, "").varint(2, OPSET));
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            model.message(14, new Protobuf().string(1, m.getKey()).string(2, m.getValue()));
        }
        return model.toByteArray();
    }

    private static Protobuf valueInfo(String name, int width) {
        Protobuf shape = new Protobuf()
                .message(1, new Protobuf().string(2, "batch"))
                .message(1, new Protobuf().varint(1, width));
        Protobuf tensorType = new Protobuf().varint(1, TENSOR_FLOAT).message(2, shape);
        return new Protobuf().string(1, name).message(2, new Protobuf().message(1, tensorType));
    }
}
