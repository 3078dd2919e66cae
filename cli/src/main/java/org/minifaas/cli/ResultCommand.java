package org.minifaas.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "result",
        mixinStandardHelpOptions = true,
        description = {
            "Download an ended task's result (stdout.txt, stderr.txt, error.txt).",
            "With -o DIR: unzipped into DIR; without: saved as ID.zip in the current directory."
        })
final class ResultCommand implements Callable<Integer> {
    @Mixin
    Connection conn;

    @Parameters(index = "0", paramLabel = "ID", description = "The task id.")
    String id;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "DIR",
            description = "Unzip into DIR (created if missing).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        byte[] zip = conn.api().result(id);
        List<Path> files;
        if (dir != null) {
            files = SafeUnzip.extract(zip, dir);
        } else {
            if (!SafeUnzip.isSafeName(id)) {
                throw new ApiException("not a task id: " + id);
            }
            Path target = Path.of(id + ".zip").toAbsolutePath();
            Files.write(target, zip);
            files = List.of(target);
        }
        if (conn.json) {
            conn.out()
                    .println(Api.JSON
                            .valueToTree(files.stream().map(Path::toString).toList())
                            .toPrettyString());
        } else {
            files.forEach(conn.out()::println);
        }
        conn.out().flush();
        return ExitCodes.OK;
    }
}
