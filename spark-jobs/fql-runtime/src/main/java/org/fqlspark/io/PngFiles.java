package org.fqlspark.io;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

import javax.imageio.ImageIO;

/**
 * PNG pictures this project draws, tagged with a {@code tEXt} chunk {@code Software = fql-spark} right after the
 * header, so that {@code --overwrite} can tell a picture of ours from a user's file before replacing it.
 */
public final class PngFiles {

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final int IHDR_END = 8 + 4 + 4 + 13 + 4;
    private static final byte[] TAG = "tEXtSoftware\0fql-spark".getBytes(StandardCharsets.ISO_8859_1);
    /** Bytes a reader needs to recognise a tagged picture. */
    public static final int HEAD_BYTES = IHDR_END + 4 + TAG.length;

    private PngFiles() {
    }

    /** The image as tagged PNG bytes. */
    public static byte[] encode(BufferedImage image) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) throw new IOException("no PNG writer available in this JVM");
        byte[] png = bytes.toByteArray();
        byte[] data = Arrays.copyOfRange(TAG, 4, TAG.length);
        ByteBuffer chunk = ByteBuffer.allocate(4 + TAG.length + 4);
        chunk.putInt(data.length).put(TAG);
        CRC32 crc = new CRC32();
        crc.update(TAG);
        chunk.putInt((int) crc.getValue());
        ByteArrayOutputStream out = new ByteArrayOutputStream(png.length + chunk.capacity());
        out.write(png, 0, IHDR_END);
        out.write(chunk.array());
        out.write(png, IHDR_END, png.length - IHDR_END);
        return out.toByteArray();
    }

    /** True when {@code head} (at least {@link #HEAD_BYTES} bytes of a file) starts a picture this project wrote. */
    public static boolean isOurs(byte[] head) {
        if (head.length < HEAD_BYTES || !Arrays.equals(head, 0, 8, SIGNATURE, 0, 8)) return false;
        return Arrays.equals(head, IHDR_END + 4, IHDR_END + 4 + TAG.length, TAG, 0, TAG.length);
    }
}
