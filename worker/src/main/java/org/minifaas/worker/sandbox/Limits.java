package org.minifaas.worker.sandbox;

/**
 * What one sandboxed command may use.
 *
 * @param memoryMb     memory of all its processes together, tmpfs contents included (FUNCTION_MEMORY_MB)
 * @param tmpMb        size of each of its private tmpfs mounts, /tmp and /dev/shm (FUNCTION_TMP_MB)
 * @param maxProcesses processes and threads it may have at once (FUNCTION_MAX_PROCESSES)
 * @param cpus         CPU time per wall-clock second, in CPUs (FUNCTION_CPUS)
 * @param maxFileBytes largest file it may write (FUNCTION_MAX_FILE_BYTES)
 */
public record Limits(int memoryMb, int tmpMb, int maxProcesses, double cpus, long maxFileBytes) {

    public long memoryBytes() {
        return memoryMb * 1024L * 1024L;
    }

    public long tmpBytes() {
        return tmpMb * 1024L * 1024L;
    }

    public Limits withMemoryMb(int value) {
        return new Limits(value, tmpMb, maxProcesses, cpus, maxFileBytes);
    }

    public Limits withTmpMb(int value) {
        return new Limits(memoryMb, value, maxProcesses, cpus, maxFileBytes);
    }

    public Limits withCpus(double value) {
        return new Limits(memoryMb, tmpMb, maxProcesses, value, maxFileBytes);
    }

    public Limits withMaxProcesses(int value) {
        return new Limits(memoryMb, tmpMb, value, cpus, maxFileBytes);
    }
}
