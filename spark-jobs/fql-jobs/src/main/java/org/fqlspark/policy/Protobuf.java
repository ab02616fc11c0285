package org.fqlspark.policy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, as much of it as the few ONNX messages {@link OnnxModel} writes need: varints,
 * length-delimited fields (strings, bytes, nested messages) and 32-bit floats. Repeated scalars are written one field
 * per value (the proto2 default, which every parser accepts). Pulling in protobuf-java for this would add a
 * dependency whose version Spark and ORC already fight over.
 */
final class Protobuf {

    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Protobuf varint(int field, long value) {
        tag(field, VARINT);
        writeVarint(value);
        return this;
    }

    Protobuf string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Protobuf bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        writeVarint(value.length);
        out.writeBytes(value);
        return this;
    }

    Protobuf message(int field, Protobuf message) {
        return bytes(field, message.toByteArray());
    }

    Protobuf float32(int field, float value) {
        tag(field, FIXED32);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) {
            out.write((bits >>> (8 * i)) & 0xFF);
        }
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        writeVarint(((long) field << 3) | wireType);
    }

    private void writeVarint(long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }
}
