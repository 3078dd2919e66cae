package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The result files of one task: one object, named after the task, in the object store all tasks share
 * ({@link ResultsBucket}), holding the files as a zip; it expires with the retention. One object per task instead of
 * an object store per task: nothing to create or delete per task (in a cluster every stream is a consensus group of
 * its own, and none can be created while a node is down), and a few messages per task instead of a dozen. Results
 * stored before this layout (an object store per task) are still read until they expire.
 */
public final class ResultStore {
    private final NatsLayer layer;
    private final UUID taskId;

    ResultStore(NatsLayer layer, UUID taskId) {
        this.layer = layer;
        this.taskId = taskId;
    }

    /**
     * Stores the files, replacing whatever an earlier attempt of the same task left.
     *
     * @throws ResultTooLargeException when the files add up to more than MAX_RESULT_BYTES
     */
    public void write(Map<String, byte[]> files) throws IOException, JetStreamApiException, ResultTooLargeException {
        long total = files.values().stream().mapToLong(b -> b.length).sum();
        if (total > layer.settings().maxResultBytes()) {
            throw new ResultTooLargeException(layer.settings().maxResultBytes());
        }
        Sha256.put(layer.resultsBucket().store(), taskId.toString(), zip(files));
    }

    /** Removes the stored files of the shared store (the worker's warm-up writes and removes a made-up task's). */
    public void delete() throws IOException, JetStreamApiException {
        layer.resultsBucket().store().delete(taskId.toString());
    }

    /** Whether results were stored (and have not expired). */
    public boolean exists() throws IOException, JetStreamApiException {
        ObjectInfo info = layer.resultsBucket().store().getInfo(taskId.toString());
        return info != null && !info.isDeleted() || legacy().isPresent();
    }

    /** The stored files by name, in the order stored, or empty when nothing was stored (or it expired). */
    public Optional<Map<String, byte[]>> read() throws IOException, JetStreamApiException, InterruptedException {
        Optional<byte[]> zipped = readStored();
        return zipped.isPresent() ? Optional.of(unzip(zipped.get())) : readLegacy();
    }

    /**
     * The stored files as one zip, entries in the order stored, or empty when nothing was stored (or it expired):
     * the stored object itself, with no copy unzipped, for a download that would zip them again.
     */
    public Optional<byte[]> readZip() throws IOException, JetStreamApiException, InterruptedException {
        Optional<byte[]> zipped = readStored();
        return zipped.isPresent() ? zipped : readLegacy().map(ResultStore::zip);
    }

    /** The stored object of the current layout, or empty (none, expired, or results of the layout before). */
    private Optional<byte[]> readStored() throws IOException, JetStreamApiException, InterruptedException {
        ObjectStore store = layer.resultsBucket().store();
        ObjectInfo info = store.getInfo(taskId.toString());
        if (info == null || info.isDeleted()) {
            return Optional.empty();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(info.getSize(), Integer.MAX_VALUE - 8));
        try {
            Sha256.get(store, taskId.toString(), out);
        } catch (IllegalArgumentException gone) {
            return Optional.empty(); // expired between the two calls
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.NO_MESSAGE_FOUND)) {
                return Optional.empty(); // its chunks expired between the two calls
            }
            throw e;
        }
        return Optional.of(out.toByteArray());
    }

    /** The names of a zip's entries, in order (their content is read through, not kept). */
    public static List<String> entryNames(byte[] zipped) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(zipped))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                names.add(e.getName());
            }
        }
        return names;
    }

    /** One entry of a zip, or empty when it has none of that name. */
    public static Optional<byte[]> entry(byte[] zipped, String name) throws IOException {
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(zipped))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return Optional.of(zip.readAllBytes());
                }
            }
        }
        return Optional.empty();
    }

    static byte[] zip(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                zip.putNextEntry(new ZipEntry(file.getKey()));
                zip.write(file.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }

    /** The entries of a zip by name, in order. */
    public static Map<String, byte[]> unzip(byte[] zipped) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(zipped))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                files.put(e.getName(), zip.readAllBytes());
            }
        }
        return files;
    }

    /** The object store of this task in the layout before the shared one, if it still exists. */
    private Optional<ObjectStore> legacy() throws IOException, JetStreamApiException {
        String bucket = BucketNames.forResults(taskId);
        if (layer.streams().streamInfo(NatsObjectStoreUtil.toStreamName(bucket)).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(layer.connection().objectStore(bucket));
    }

    private Optional<Map<String, byte[]>> readLegacy() throws IOException, JetStreamApiException, InterruptedException {
        Optional<ObjectStore> legacy = legacy();
        if (legacy.isEmpty()) {
            return Optional.empty();
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        try {
            for (ObjectInfo info : legacy.get().getList()) {
                if (info.isDeleted()) {
                    continue;
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) info.getSize());
                if (info.getSize() > 0) {
                    Sha256.get(legacy.get(), info.getObjectName(), out);
                }
                files.put(info.getObjectName(), out.toByteArray());
            }
        } catch (IllegalArgumentException gone) {
            return Optional.empty();
        }
        return Optional.of(files);
    }

    /** Results larger than the configured cap. */
    public static final class ResultTooLargeException extends Exception {
        public ResultTooLargeException(long limit) {
            super("results exceed MAX_RESULT_BYTES=" + limit);
        }
    }
}
