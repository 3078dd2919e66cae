package org.minifaas.worker.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * A seccomp program (classic BPF, for {@code bwrap --seccomp FD}) that refuses new user namespaces inside the
 * sandbox: {@code clone} and {@code unshare} with CLONE_NEWUSER fail with EPERM, {@code clone3} with ENOSYS (its
 * flags are out of a filter's reach; libc then falls back to {@code clone}), and other ABIs (x32, 32-bit) with
 * ENOSYS. bubblewrap's own {@code --disable-userns} does the same by writing /proc/sys, which a container's
 * read-only /proc/sys forbids; this filter works there too.
 */
final class UserNamespaceFilter {
    private static final int LD_W_ABS = 0x20;
    private static final int JEQ_K = 0x15;
    private static final int JGE_K = 0x35;
    private static final int JSET_K = 0x45;
    private static final int RET_K = 0x06;
    private static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    private static final int CLONE_NEWUSER = 0x10000000;
    private static final int OFFSET_NR = 0;
    private static final int OFFSET_ARCH = 4;
    private static final int OFFSET_ARG0 = 16; // the low half of args[0], little-endian

    private UserNamespaceFilter() {}

    /** The architecture's audit id and its clone, clone3 and unshare numbers. */
    private record Arch(int audit, int cloneNr, int clone3Nr, int unshareNr) {}

    /** The program for the JVM's architecture, or empty where its syscall numbers are not known here. */
    static Optional<byte[]> forThisMachine() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> Optional.of(program(new Arch(0xC000003E, 56, 435, 272)));
            case "aarch64" -> Optional.of(program(new Arch(0xC00000B7, 220, 435, 97)));
            default -> Optional.empty();
        };
    }

    static byte[] program(Arch arch) {
        ByteBuffer b = ByteBuffer.allocate(14 * 8).order(ByteOrder.LITTLE_ENDIAN);
        op(b, LD_W_ABS, 0, 0, OFFSET_ARCH);
        op(b, JEQ_K, 1, 0, arch.audit());
        op(b, RET_K, 0, 0, RET_ERRNO | ENOSYS); // another ABI
        op(b, LD_W_ABS, 0, 0, OFFSET_NR);
        op(b, JGE_K, 0, 1, 0x40000000);
        op(b, RET_K, 0, 0, RET_ERRNO | ENOSYS); // x32
        op(b, JEQ_K, 0, 1, arch.clone3Nr());
        op(b, RET_K, 0, 0, RET_ERRNO | ENOSYS);
        op(b, JEQ_K, 1, 0, arch.unshareNr());
        op(b, JEQ_K, 0, 3, arch.cloneNr());
        op(b, LD_W_ABS, 0, 0, OFFSET_ARG0);
        op(b, JSET_K, 0, 1, CLONE_NEWUSER);
        op(b, RET_K, 0, 0, RET_ERRNO | EPERM);
        op(b, RET_K, 0, 0, RET_ALLOW);
        return b.array();
    }

    private static void op(ByteBuffer b, int code, int jt, int jf, int k) {
        b.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
    }
}
