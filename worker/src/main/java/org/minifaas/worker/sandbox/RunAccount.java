package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/** The low-privilege account functions run as, resolved once at start. */
public record RunAccount(String name, int uid, int gid) {

    /**
     * Resolves RUN_AS_USER; empty means functions run as the worker's own user.
     *
     * @throws IllegalStateException when the user does not exist, or the worker cannot switch to it
     */
    public static Optional<RunAccount> resolve(String user) throws IOException, InterruptedException {
        if (user == null || user.isBlank()) {
            return Optional.empty();
        }
        String uid = id("-u", user);
        String gid = id("-g", user);
        if (uid == null || gid == null) {
            throw new IllegalStateException("RUN_AS_USER=" + user + ": no such user (create it with: "
                    + "useradd --system --no-create-home --shell /usr/sbin/nologin " + user + ")");
        }
        RunAccount account = new RunAccount(user, Integer.parseInt(uid), Integer.parseInt(gid));
        String self = id("-u", null);
        if (!"0".equals(self) && !uid.equals(self)) {
            throw new IllegalStateException("RUN_AS_USER=" + user + " needs the worker to run as root "
                    + "(it switches to that user for each function); run it as root, or set RUN_AS_USER= "
                    + "to run functions as the worker's own user");
        }
        return Optional.of(account);
    }

    private static String id(String flag, String user) throws IOException, InterruptedException {
        List<String> cmd = user == null ? List.of("id", flag) : List.of("id", flag, "--", user);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor() == 0 && out.matches("\\d+") ? out : null;
    }
}
